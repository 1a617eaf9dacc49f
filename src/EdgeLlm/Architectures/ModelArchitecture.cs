using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Backends;

namespace EdgeLlm.Architectures;

/// <summary>
/// Everything EdgeLlm knows about one model family, in one place: how its config.json maps to
/// <see cref="ModelConfig"/>, the tensors its checkpoint holds (names exactly as the checkpoint spells them),
/// which tensor axes structured pruning slices, the scratch buffers its block needs, and its forward pass,
/// written once against <see cref="IBackend"/>. The config reader, tensor layout, pruning, memory model and
/// <c>inspect</c> ask it; none of them switches on the architecture. Register a new one in
/// <see cref="ArchitectureRegistry"/>.
/// </summary>
public abstract class ModelArchitecture
{
    /// <summary>The <c>architectures[0]</c> value of config.json (e.g. <c>LlamaForCausalLM</c>).</summary>
    public abstract string Name { get; }

    /// <summary>One line on what the block is, for <c>inspect</c> and docs.</summary>
    public abstract string Summary { get; }

    /// <summary>Reads the family's config.json fields; the reader's errors name the file and the field.</summary>
    internal abstract ModelConfig ReadConfig(ConfigReader config);

    /// <summary>Every tensor the checkpoint holds for <paramref name="config"/>, in checkpoint order of modules.</summary>
    public abstract IReadOnlyList<TensorSpec> Tensors(ModelConfig config);

    /// <summary>The decoder block's tensors as structured pruning slices them.</summary>
    public abstract PruningLayout Pruning(ModelConfig config);

    /// <summary>
    /// The scratch buffers one forward step holds, per row, at their widest layer's width: the residual stream "x" and
    /// every role the block asks <see cref="IBackend.Scratch"/> for. The memory model sums them; a test ties the sum to
    /// what the engine allocates.
    /// </summary>
    public abstract IReadOnlyList<ScratchBuffer> ScratchBuffers(ModelConfig config);

    /// <summary>Binds the checkpoint's weights to <paramref name="backend"/> and returns the forward pass.</summary>
    internal abstract DecoderModel Load(Checkpoint checkpoint, IBackend backend);

    /// <summary>Whether config.json has a key/value head count (QWen-7B's has none: every head has its own K/V).</summary>
    public virtual bool HasKvHeadsField => true;

    /// <summary>The config.json <c>intermediate_size</c> for <paramref name="channels"/> MLP channels (QWen counts both branches).</summary>
    public virtual int ConfigIntermediateSize(int channels) => channels;

    /// <summary>MLP channels per branch for a config.json <c>intermediate_size</c>.</summary>
    public virtual int ChannelsFromConfig(int intermediateSize) => intermediateSize;

    /// <summary>How many KV groups a uniform pruned model may keep when <paramref name="wanted"/> are asked (its stock loader's constraint).</summary>
    public virtual int LoadableKvGroups(ModelConfig config, int wanted) => wanted;

    public override string ToString() => Name;

    /// <summary>Rows × widths of <see cref="ScratchBuffers"/> in float32 bytes.</summary>
    public long ScratchBytes(ModelConfig config, int rows) => rows * ScratchBuffers(config).Sum(b => (long)b.Width) * sizeof(float);

    /// <summary>The widest layer's widths (layers differ only in a non-uniform pruned checkpoint).</summary>
    protected static (long Hidden, long Query, long KeyValue, long Mlp) WidestWidths(ModelConfig c)
    {
        var layers = Enumerable.Range(0, c.NumLayers).Select(c.Layer).ToList();
        return (c.HiddenSize, (long)layers.Max(l => l.NumHeads) * c.HeadDim, (long)layers.Max(l => l.NumKvHeads) * c.HeadDim,
            layers.Max(l => l.IntermediateSize));
    }

    /// <summary>A weight (and optional bias) of a linear layer, as tensor specs.</summary>
    protected static IEnumerable<TensorSpec> Linear(string module, long outputs, long inputs, bool bias)
    {
        yield return new TensorSpec(module + ".weight", [outputs, inputs], TensorRole.Linear);
        if (bias) yield return new TensorSpec(module + ".bias", [outputs], TensorRole.Bias);
    }

    /// <summary>A norm's weight (and optional bias) over <paramref name="width"/> channels, as tensor specs.</summary>
    protected static IEnumerable<TensorSpec> Norm(string module, long width, bool bias)
    {
        yield return new TensorSpec(module + ".weight", [width], TensorRole.Norm);
        if (bias) yield return new TensorSpec(module + ".bias", [width], TensorRole.Norm);
    }
}

/// <summary>One scratch buffer of a forward step: its role (the name the block asks the backend for) and its width per row.</summary>
public sealed record ScratchBuffer(string Role, long Width);
