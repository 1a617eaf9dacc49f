using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Inference;

/// <summary>
/// A decoder-only language model over a memory-mapped checkpoint. Each architecture supplies its
/// decoder block; this class owns the embedding lookup, the final norm and head, and the batching of
/// several sequences (each with its own <see cref="KvCache"/>) into one stack of rows, so prefill,
/// batched decoding and batched scoring all run through the same matrix multiplies.
/// Calls on one instance must not overlap; each call is parallel inside.
/// </summary>
public abstract class CausalLM : IDisposable
{
    private readonly ForwardState state = new();
    private readonly TensorView embedding;
    private readonly TensorView head;
    private readonly float[]? headBias;

    protected CausalLM(Checkpoint checkpoint, EngineOptions? options, string embeddingName, string headName, string? headBiasName = null)
    {
        Checkpoint = checkpoint;
        Options = options ?? new EngineOptions();
        Config = checkpoint.Config;
        embedding = checkpoint.Expect(embeddingName, Config.VocabSize, Config.HiddenSize);
        head = Config.TieWordEmbeddings && !checkpoint.Contains(headName)
            ? embedding : checkpoint.Expect(headName, Config.VocabSize, Config.HiddenSize);
        headBias = headBiasName == null ? null : Vector(headBiasName, Config.VocabSize);
    }

    public Checkpoint Checkpoint { get; }
    public EngineOptions Options { get; }
    public ModelConfig Config { get; }
    public int VocabSize => Config.VocabSize;
    public int MaxContext => Config.MaxPositions;

    /// <summary>Receives block inputs/outputs and each projection's input during forward calls; null (the default) costs nothing.</summary>
    public IActivationObserver? Observer { get; set; }

    /// <summary>Opens the model folder and builds the engine for its architecture.</summary>
    public static CausalLM Load(string directory, EngineOptions? options = null)
    {
        var checkpoint = Checkpoint.Open(directory);
        try { return Create(checkpoint, options); }
        catch
        {
            checkpoint.Dispose(); // a folder the engine rejects (missing or misshapen tensor) must not stay mapped
            throw;
        }
    }

    /// <summary>Builds the engine for an open checkpoint; the model owns and disposes it.</summary>
    public static CausalLM Create(Checkpoint checkpoint, EngineOptions? options = null) => options?.Device is { IsCuda: true }
        ? new Backends.Cuda.CudaCausalLM(checkpoint, options)
        : checkpoint.Config.Architecture switch
    {
        Architecture.Llama or Architecture.Qwen2 => new Llama(checkpoint, options),
        Architecture.Phi => new Phi(checkpoint, options),
        Architecture.QWen => new QWen(checkpoint, options),
        _ => throw new NotSupportedException(checkpoint.Config.ArchitectureName),
    };

    public virtual KvCache NewCache(int initialCapacity = 64) =>
        new(Enumerable.Range(0, Config.NumLayers).Select(i => Config.Layer(i).NumKvHeads * Config.HeadDim).ToArray(), MaxContext, initialCapacity);

    /// <summary>
    /// Appends each segment's tokens to its sequence and returns the final hidden states (after the
    /// final norm), one row of <see cref="ModelConfig.HiddenSize"/> per token, segments stacked in order.
    /// </summary>
    public virtual float[] ForwardHidden(IReadOnlyList<Segment> segments, CancellationToken cancellationToken = default)
    {
        foreach (var s in segments)
        {
            foreach (var t in s.Tokens)
                if ((uint)t >= (uint)VocabSize) throw new ArgumentOutOfRangeException(nameof(segments), $"Token id {t} is outside the vocabulary of {VocabSize}.");
            s.Cache.Reserve(s.Tokens.Length);
        }
        state.Reset(segments);
        int dim = Config.HiddenSize;
        var x = new float[state.Rows * dim];
        int row = 0;
        foreach (var s in segments)
            foreach (var t in s.Tokens)
                embedding.RowToFloat(t, x.AsSpan(row++ * dim, dim));
        for (int layer = 0; layer < Config.NumLayers; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Observer?.BlockInput(layer, x, state.Rows, dim);
            Block(layer, state, x);
            Observer?.BlockOutput(layer, x, state.Rows, dim);
        }
        foreach (var s in segments) s.Cache.Advance(s.Tokens.Length);
        FinalNorm(x, state.Rows);
        state.Trim(keepBytes: 64L << 20);
        return x;
    }

    /// <summary>Logits for <paramref name="rows"/> hidden-state rows: [rows, vocab].</summary>
    public virtual void Logits(ReadOnlySpan<float> hidden, int rows, Span<float> logits) =>
        MatMul.Linear(hidden[..(rows * Config.HiddenSize)], rows, head, headBias, logits);

    /// <summary>Appends tokens to one sequence and returns the logits of its last token.</summary>
    public float[] Forward(KvCache cache, ReadOnlySpan<int> tokens, CancellationToken cancellationToken = default)
    {
        var hidden = ForwardHidden([new Segment(cache, tokens.ToArray())], cancellationToken);
        var logits = new float[VocabSize];
        Logits(hidden.AsSpan((tokens.Length - 1) * Config.HiddenSize), 1, logits);
        return logits;
    }

    /// <summary>Appends tokens to one sequence and returns the logits of every token: [tokens, vocab].</summary>
    public float[] ForwardAll(KvCache cache, ReadOnlySpan<int> tokens, CancellationToken cancellationToken = default)
    {
        var hidden = ForwardHidden([new Segment(cache, tokens.ToArray())], cancellationToken);
        var logits = new float[tokens.Length * VocabSize];
        Logits(hidden, tokens.Length, logits);
        return logits;
    }

    /// <summary>Bytes of working buffers the engine holds now (activations scratch, not weights or caches).</summary>
    public long WorkspaceBytes => state.BufferBytes;

    private protected abstract void Block(int layer, ForwardState state, float[] x);

    private protected abstract void FinalNorm(float[] x, int rows);

    /// <summary>A small 1-D tensor (norm weight, bias) copied to float32.</summary>
    protected float[] Vector(string name, int length) => Checkpoint.Expect(name, length).ToFloatArray();

    protected TensorView Matrix(string name, int rows, int cols) => Checkpoint.Expect(name, rows, cols);

    protected static RotaryEmbedding CreateRope(RopeConfig rope) => new(rope);

    /// <summary>
    /// Greedy decoding run by the backend itself for one sequence (CUDA: prefill, then a captured decode
    /// graph whose argmax stays on the device); null when the backend has no such path.
    /// </summary>
    internal virtual IGreedyDecoder? GreedyDecoder(KvCache cache) => null;

    public virtual void Dispose()
    {
        Checkpoint.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A backend's own greedy loop over one cache: the prompt's next token, then one token per step.</summary>
internal interface IGreedyDecoder
{
    /// <summary>Prefills <paramref name="prompt"/> and returns the greedy next token.</summary>
    int First(int[] prompt, CancellationToken cancellationToken);
    /// <summary>Appends <paramref name="token"/> and returns the greedy token after it.</summary>
    int Next(int token);
}
