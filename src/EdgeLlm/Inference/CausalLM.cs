using EdgeLlm.Architectures;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Backends;
using EdgeLlm.Inference.Backends.Cuda;

namespace EdgeLlm.Inference;

/// <summary>
/// A decoder-only language model over a memory-mapped checkpoint, run by a backend (<see cref="EngineOptions.Backend"/>;
/// the CPU one by default), or by the CUDA engine when <see cref="EngineOptions.Device"/> names a GPU. The architecture (<see cref="ModelConfig.Architecture"/>) supplies its forward pass; this class
/// owns the batching of several sequences (each with its own <see cref="KvCache"/>) into one stack of rows, so prefill,
/// batched decoding and batched scoring all run through the same matrix multiplies.
/// Calls on one instance must not overlap; each call is parallel inside.
/// </summary>
public sealed class CausalLM : IDisposable
{
    private readonly DecoderModel? model;
    private readonly CudaEngine? cuda;
    private readonly bool ownsBackend;

    private CausalLM(Checkpoint checkpoint, EngineOptions? options)
    {
        Checkpoint = checkpoint;
        Options = options ?? new EngineOptions();
        Config = checkpoint.Config;
        if (Options.Device.IsCuda)
        {
            if (Options.Backend != null) throw new ArgumentException("EngineOptions: a CUDA device runs its own engine; leave Backend unset.", nameof(options));
            cuda = new CudaEngine(checkpoint, Options);
            return;
        }
        ownsBackend = Options.Backend == null;
        Backend = Options.Backend ?? new CpuBackend(Options.Cpu);
        model = Config.Architecture.Load(checkpoint, Backend);
    }

    public Checkpoint Checkpoint { get; }
    public EngineOptions Options { get; }
    public ModelConfig Config { get; }
    /// <summary>The backend that runs the forward pass; null when the CUDA engine (<see cref="Cuda"/>) runs it.</summary>
    public IBackend? Backend { get; }

    /// <summary>The CUDA engine running this model (<see cref="EngineOptions.Device"/> = cuda[:N]), else null.</summary>
    public CudaEngine? Cuda => cuda;
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
        return new(checkpoint, options);
    }

    public KvCache NewCache(int initialCapacity = 64)
    {
        var widths = Enumerable.Range(0, Config.NumLayers).Select(i => Config.Layer(i).NumKvHeads * Config.HeadDim).ToArray();
        if (cuda != null) return new KvCache(cuda.CreateKvStorage, widths.Length, MaxContext, initialCapacity);
        return new KvCache(capacity => Backend!.CreateKvStorage(widths, capacity), widths.Length, MaxContext, initialCapacity);
    }

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
        if (cuda != null)
        {
            if (Observer != null) throw new NotSupportedException("Activation observers (calibration) run on the CPU engine; use --device cpu.");
            var deviceHidden = cuda.ForwardHidden(segments, cancellationToken);
            if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(deviceHidden)) throw NonFinite("the final hidden states");
            return deviceHidden;
        }
        var backend = Backend!;
        var model = this.model!;
        var step = new ForwardStep(segments);
        backend.BeginStep(step);
        model.BeginStep(step);
        var pass = new ForwardPass(backend, step, Observer);
        var x = backend.Scratch("x", Config.HiddenSize);
        backend.Embed(model.Embedding, x);
        for (int layer = 0; layer < Config.NumLayers; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            pass.BlockInput(layer, x);
            model.Block(pass, layer, x);
            pass.BlockOutput(layer, x);
        }
        foreach (var s in segments) s.Cache.Advance(s.Tokens.Length);
        model.FinalNorm(x);
        var hidden = new float[step.Rows * Config.HiddenSize];
        backend.CopyToHost(x, hidden);
        backend.TrimScratch(keepBytes: 64L << 20);
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(hidden)) throw NonFinite("the final hidden states");
        return hidden;
    }

    /// <summary>Logits for <paramref name="rows"/> hidden-state rows: [rows, vocab].</summary>
    public void Logits(ReadOnlySpan<float> hidden, int rows, Span<float> logits)
    {
        if (cuda != null)
        {
            cuda.Logits(hidden, rows, logits);
            return;
        }
        // Finite hidden states give finite logits unless the head itself holds NaN or ∞: read it through once.
        if (headChecked == 0) headChecked = model!.HeadWeights.AllFinite() ? 1 : 2;
        if (headChecked == 2) throw NonFinite("the output head");
        Backend!.Logits(hidden[..(rows * Config.HiddenSize)], rows, model!.Head, model.HeadBias, logits);
    }

    private int headChecked; // 0 not yet read, 1 finite, 2 not

    /// <summary>
    /// Appends each segment's tokens to its sequence and returns, per segment, the greedy (argmax) next token after its
    /// last row: <see cref="ForwardHidden"/>, the head over those rows only, then the first index of the largest logit.
    /// </summary>
    public int[] GreedyNext(IReadOnlyList<Segment> segments, CancellationToken cancellationToken = default)
    {
        var hidden = ForwardHidden(segments, cancellationToken);
        int dim = Config.HiddenSize, vocab = VocabSize, n = segments.Count;
        var last = new float[n * dim];
        int row = 0;
        for (int s = 0; s < n; s++)
        {
            row += segments[s].Tokens.Length;
            Array.Copy(hidden, (row - 1) * dim, last, s * dim, dim);
        }
        var logits = new float[n * vocab];
        Logits(last, n, logits);
        var next = new int[n];
        for (int s = 0; s < n; s++) next[s] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits.AsSpan(s * vocab, vocab));
        return next;
    }

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
    public long WorkspaceBytes => cuda?.ScratchBytes ?? Backend!.ScratchBytes;

    /// <summary>
    /// Greedy decoding run by the engine itself for one sequence (CUDA: prefill, then a captured decode graph whose
    /// argmax stays on the device, one token copied back per step); null for the backend path.
    /// </summary>
    internal IGreedyDecoder? GreedyDecoder(KvCache cache) => cuda?.GreedyDecoder(cache);

    public void Dispose()
    {
        cuda?.Dispose();
        if (ownsBackend) Backend!.Dispose();
        Checkpoint.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>An engine's own greedy loop over one cache: the prompt's next token, then one token per step.</summary>
internal interface IGreedyDecoder
{
    /// <summary>Prefills <paramref name="prompt"/> and returns the greedy next token.</summary>
    int First(int[] prompt, CancellationToken cancellationToken);
    /// <summary>Appends <paramref name="token"/> and returns the greedy token after it.</summary>
    int Next(int token);
}
