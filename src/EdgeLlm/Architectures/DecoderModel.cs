using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Inference.Backends;

namespace EdgeLlm.Architectures;

/// <summary>
/// One architecture's forward pass bound to a backend: the embedding table, each decoder block, the final norm and
/// head. <see cref="CausalLM"/> runs it: embed, every block in order on the residual stream, final norm, head.
/// </summary>
internal abstract class DecoderModel
{
    protected DecoderModel(Checkpoint checkpoint, IBackend backend, string embeddingName, string headName, string? headBiasName = null)
    {
        Checkpoint = checkpoint;
        Backend = backend;
        Config = checkpoint.Config;
        var embedding = checkpoint.Expect(embeddingName, Config.VocabSize, Config.HiddenSize);
        Embedding = backend.UploadMatrix(embedding);
        HeadWeights = Config.TieWordEmbeddings && !checkpoint.Contains(headName) ? embedding : checkpoint.Expect(headName, Config.VocabSize, Config.HiddenSize);
        Head = ReferenceEquals(HeadWeights, embedding) ? Embedding : backend.UploadMatrix(HeadWeights);
        HeadBias = headBiasName == null ? null : Vector(headBiasName, Config.VocabSize);
    }

    public Checkpoint Checkpoint { get; }
    public IBackend Backend { get; }
    public ModelConfig Config { get; }
    public DeviceMatrix Embedding { get; }
    public DeviceMatrix Head { get; }
    /// <summary>The head's checkpoint tensor (the embedding when tied), for the engine's finiteness check.</summary>
    public TensorView HeadWeights { get; }
    public DeviceVector? HeadBias { get; }

    /// <summary>Host-side decisions made once per step before any block runs (QWen: the NTK alpha of each sequence).</summary>
    public virtual void BeginStep(ForwardStep step) { }

    /// <summary>Runs decoder block <paramref name="layer"/> on the residual stream <paramref name="x"/> (<c>[rows, hidden]</c>), in place.</summary>
    public abstract void Block(ForwardPass pass, int layer, Activation x);

    /// <summary>The final norm, in place on <paramref name="x"/>.</summary>
    public abstract void FinalNorm(Activation x);

    /// <summary>A norm weight or bias; NaN or ∞ in one is a checkpoint error, named here rather than as NaN logits later.</summary>
    protected DeviceVector Vector(string name, int length)
    {
        var t = Checkpoint.Expect(name, length);
        return System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(t.ToFloatArray()) ? Backend.UploadVector(t)
            : throw new CheckpointFormatException(t.SourcePath, $"tensor '{name}' holds NaN or infinite values");
    }

    protected DeviceVector? OptionalVector(bool present, string name, int length) => present ? Vector(name, length) : null;

    protected DeviceMatrix Matrix(string name, int rows, int columns) => Backend.UploadMatrix(Checkpoint.Expect(name, rows, columns));
}

/// <summary>What a block sees of the running forward step: the backend, the step's rows, and the observation points.</summary>
internal sealed class ForwardPass(IBackend backend, ForwardStep step, IActivationObserver? observer, IBackendActivationObserver? backendObserver = null)
{
    private float[] hostCopy = [];

    public IBackend Backend { get; } = backend;
    public ForwardStep Step { get; } = step;
    public int Rows => Step.Rows;

    /// <summary>An observation point for calibration: the input of <paramref name="projection"/> in <paramref name="layer"/>.</summary>
    public void Observe(int layer, Projection projection, Activation activations)
    {
        if (backendObserver != null && backendObserver.Observes(projection)) backendObserver.ProjectionInput(Backend, layer, projection, activations, Rows);
        if (observer == null || !observer.Observes(projection)) return;
        observer.ProjectionInput(layer, projection, Host(activations), Rows, activations.Width);
    }

    public void BlockInput(int layer, Activation x)
    {
        backendObserver?.BlockInput(Backend, layer, x, Rows);
        if (observer != null) observer.BlockInput(layer, Host(x), Rows, x.Width);
    }

    public void BlockOutput(int layer, Activation x)
    {
        backendObserver?.BlockOutput(Backend, layer, x, Rows);
        if (observer != null) observer.BlockOutput(layer, Host(x), Rows, x.Width);
    }

    private float[] Host(Activation a)
    {
        if (Backend is CpuBackend) return CpuBackend.Cpu(a);
        int length = Rows * a.Width;
        if (hostCopy.Length < length) hostCopy = new float[length];
        Backend.CopyToHost(a, hostCopy.AsSpan(0, length));
        return hostCopy;
    }
}
