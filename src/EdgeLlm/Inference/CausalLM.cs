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
    public static CausalLM Create(Checkpoint checkpoint, EngineOptions? options = null)
    {
        checkpoint.Validate();
        return Build(checkpoint, options);
    }

    private static CausalLM Build(Checkpoint checkpoint, EngineOptions? options) => checkpoint.Config.Architecture switch
    {
        Architecture.Llama or Architecture.Qwen2 => new Llama(checkpoint, options),
        Architecture.Phi => new Phi(checkpoint, options),
        Architecture.QWen => new QWen(checkpoint, options),
        _ => throw new NotSupportedException(checkpoint.Config.ArchitectureName),
    };

    public KvCache NewCache(int initialCapacity = 64) =>
        new(Enumerable.Range(0, Config.NumLayers).Select(i => Config.Layer(i).NumKvHeads * Config.HeadDim).ToArray(), MaxContext, initialCapacity);

    /// <summary>
    /// Appends each segment's tokens to its sequence and returns the final hidden states (after the
    /// final norm), one row of <see cref="ModelConfig.HiddenSize"/> per token, segments stacked in order.
    /// </summary>
    public float[] ForwardHidden(IReadOnlyList<Segment> segments, CancellationToken cancellationToken = default)
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
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(x)) throw NonFinite("the final hidden states");
        state.Trim(keepBytes: 64L << 20);
        return x;
    }

    /// <summary>Logits for <paramref name="rows"/> hidden-state rows: [rows, vocab].</summary>
    public void Logits(ReadOnlySpan<float> hidden, int rows, Span<float> logits)
    {
        // Finite hidden states give finite logits unless the head itself holds NaN or ∞: read it through once.
        if (headChecked == 0) headChecked = head.AllFinite() ? 1 : 2;
        if (headChecked == 2) throw NonFinite("the output head");
        MatMul.Linear(hidden[..(rows * Config.HiddenSize)], rows, head, headBias, logits);
    }

    private int headChecked; // 0 not yet read, 1 finite, 2 not

    // Non-finite activations mean wrong weights or a config the checks let through; name the first bad tensor if any.
    private NonFiniteOutputException NonFinite(string where)
    {
        var culprit = Checkpoint.FirstNonFiniteTensor();
        return new NonFiniteOutputException(culprit is null
            ? $"{Checkpoint.Directory}: the forward pass produced NaN or infinite values in {where}, though every weight is finite (check the config's numeric fields)"
            : $"{culprit.SourcePath}: tensor '{culprit.Name}' holds NaN or infinite values, which reached {where}");
    }

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
    protected float[] Vector(string name, int length)
    {
        var t = Checkpoint.Expect(name, length);
        var values = t.ToFloatArray();
        return System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(values) ? values
            : throw new CheckpointFormatException(t.SourcePath, $"tensor '{name}' holds NaN or infinite values");
    }

    protected TensorView Matrix(string name, int rows, int cols) => Checkpoint.Expect(name, rows, cols);

    protected static RotaryEmbedding CreateRope(RopeConfig rope) => new(rope);

    public void Dispose()
    {
        Checkpoint.Dispose();
        GC.SuppressFinalize(this);
    }
}
