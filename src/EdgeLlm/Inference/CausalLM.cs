using EdgeLlm.Architectures;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Backends;
using EdgeLlm.Inference.Backends.Cuda;

namespace EdgeLlm.Inference;

/// <summary>
/// A decoder-only language model over a memory-mapped checkpoint, run by a backend (<see cref="EngineOptions.Backend"/>;
/// the CPU one by default, a <see cref="CudaBackend"/> when <see cref="EngineOptions.Device"/> names a GPU, which then also
/// keeps the fused <see cref="CudaEngine"/> over the same device weights as the batch-1 greedy fast path,
/// <see cref="GreedyDecoder(int)"/>). The architecture (<see cref="ModelConfig.Architecture"/>) supplies its forward pass; this class
/// owns the batching of several sequences (each with its own <see cref="KvCache"/>) into one stack of rows, so prefill,
/// batched decoding and batched scoring all run through the same matrix multiplies.
/// Calls on one instance must not overlap; each call is parallel inside.
/// </summary>
public sealed class CausalLM : IDisposable
{
    private readonly DecoderModel model;
    private readonly CudaEngine? cuda;
    private readonly bool ownsBackend;

    private CausalLM(Checkpoint checkpoint, EngineOptions? options)
    {
        Checkpoint = checkpoint;
        Options = options ?? new EngineOptions();
        Config = checkpoint.Config;
        ownsBackend = Options.Backend == null;
        if (Options.Device.IsCuda)
        {
            if (Options.Backend != null) throw new ArgumentException("EngineOptions: a CUDA device runs its own backend; leave Backend unset.", nameof(options));
            cuda = CudaEngine.Supports(checkpoint) ? new CudaEngine(checkpoint, Options) : null;
            try { Backend = cuda != null ? new CudaBackend(cuda) : CudaBackend.Open(Options.Device); }
            catch { cuda?.Dispose(); throw; }
        }
        else Backend = Options.Backend ?? new CpuBackend(Options.Cpu);
        try { model = Config.Architecture.Load(checkpoint, Backend); }
        catch
        {
            if (ownsBackend) Backend.Dispose();
            cuda?.Dispose();
            throw;
        }
    }

    public Checkpoint Checkpoint { get; }
    public EngineOptions Options { get; }
    public ModelConfig Config { get; }
    /// <summary>The backend that runs every forward pass (<see cref="CudaBackend"/> on a GPU).</summary>
    public IBackend Backend { get; }

    /// <summary>
    /// The fused CUDA engine (batch-1 greedy decoding) over the same device weights as <see cref="Backend"/>, when the device
    /// is a GPU and the engine knows the family (Llama, Qwen2, Phi, QWen); else null.
    /// </summary>
    public CudaEngine? Cuda => cuda;

    /// <summary>The GPU this model runs on (also for architectures the fused engine does not cover, such as Mistral); null on the CPU.</summary>
    internal CudaDevice? Device => (Backend as CudaBackend)?.Device;
    public int VocabSize => Config.VocabSize;
    public int MaxContext => Config.MaxPositions;

    /// <summary>Receives block inputs/outputs and each projection's input during forward calls; null (the default) costs nothing.</summary>
    public IActivationObserver? Observer { get; set; }

    /// <summary>
    /// Receives the same observation points as <see cref="Observer"/> as the backend's own activations, with the backend
    /// (no copy to the host: what calibration's statistics use on a GPU); null (the default) costs nothing.
    /// </summary>
    public IBackendActivationObserver? BackendObserver { get; set; }

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
        return new KvCache(capacity => Backend.CreateKvStorage(widths, capacity), widths.Length, MaxContext, initialCapacity);
    }

    /// <summary>
    /// Appends each segment's tokens to its sequence and returns the final hidden states (after the
    /// final norm), one row of <see cref="ModelConfig.HiddenSize"/> per token, segments stacked in order.
    /// </summary>
    public float[] ForwardHidden(IReadOnlyList<Segment> segments, CancellationToken cancellationToken = default)
    {
        var (step, x) = Run(segments, cancellationToken);
        var hidden = new float[step.Rows * Config.HiddenSize];
        Backend.CopyToHost(x, hidden);
        Backend.TrimScratch(keepBytes: ScratchKeepBytes);
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(hidden)) throw NonFinite("the final hidden states");
        return hidden;
    }

    /// <summary>
    /// Appends each segment's tokens to its sequence and returns the greedy (argmax) next token after each segment's last
    /// row, ties to the lower id. The head runs on those rows only, inside the backend (<see cref="IBackend.GreedyTokens"/>):
    /// on a GPU neither hidden states nor logits cross to the host. Segments must each have at least one token.
    /// </summary>
    public int[] GreedyNext(IReadOnlyList<Segment> segments, CancellationToken cancellationToken = default)
    {
        if (segments.Any(s => s.Tokens.Length == 0)) throw new ArgumentException("Every segment needs at least one token.", nameof(segments));
        CheckHead();
        var (step, x) = Run(segments, cancellationToken);
        var rows = Enumerable.Range(0, segments.Count).Select(s => step.SegmentStart[s] + segments[s].Tokens.Length - 1).ToArray();
        var next = new int[segments.Count];
        Backend.GreedyTokens(x, rows, model.Head, model.HeadBias, next);
        Backend.TrimScratch(keepBytes: ScratchKeepBytes);
        if (next.Contains(-1)) throw NonFinite("the logits");
        return next;
    }

    /// <summary>Scratch kept between calls: a GPU keeps the widest step's buffers (fixed addresses), the CPU 64 MiB.</summary>
    private long ScratchKeepBytes => Backend is CudaBackend ? 8L << 30 : 64L << 20;

    /// <summary>Every block over the step's rows; returns the step and the final-normed residual stream (still in the backend).</summary>
    private (ForwardStep Step, Activation X) Run(IReadOnlyList<Segment> segments, CancellationToken cancellationToken)
    {
        foreach (var s in segments)
        {
            foreach (var t in s.Tokens)
                if ((uint)t >= (uint)VocabSize) throw new ArgumentOutOfRangeException(nameof(segments), $"Token id {t} is outside the vocabulary of {VocabSize}.");
            s.Cache.Reserve(s.Tokens.Length);
        }
        var backend = Backend;
        var step = new ForwardStep(segments);
        backend.BeginStep(step);
        model.BeginStep(step);
        var pass = new ForwardPass(backend, step, Observer, BackendObserver);
        var x = backend.Scratch("x", Config.HiddenSize);
        void Blocks()
        {
            backend.Embed(model.Embedding, x);
            for (int layer = 0; layer < Config.NumLayers; layer++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                pass.BlockInput(layer, x);
                model.Block(pass, layer, x);
                pass.BlockOutput(layer, x);
            }
            model.FinalNorm(x);
        }
        // A decode step (one token per segment, nobody observing) may be replayed as a captured graph; QWen's per-sequence
        // rotary tables (dynamic NTK) make its calls depend on more than the row count, so it always runs plainly.
        bool decodeStep = Observer == null && BackendObserver == null && segments.All(s => s.Tokens.Length == 1) && Config.ArchitectureName != "QWenLMHeadModel";
        if (backend is CudaBackend cuda) cuda.RunStep(step, decodeStep, Blocks);
        else Blocks();
        foreach (var s in segments) s.Cache.Advance(s.Tokens.Length);
        return (step, x);
    }

    /// <summary>Logits for <paramref name="rows"/> hidden-state rows: [rows, vocab].</summary>
    public void Logits(ReadOnlySpan<float> hidden, int rows, Span<float> logits)
    {
        CheckHead();
        Backend.Logits(hidden[..(rows * Config.HiddenSize)], rows, model.Head, model.HeadBias, logits);
    }

    // Finite hidden states give finite logits unless the head itself holds NaN or ∞: read it through once.
    private void CheckHead()
    {
        if (headChecked == 0) headChecked = model.HeadWeights.AllFinite() ? 1 : 2;
        if (headChecked == 2) throw NonFinite("the output head");
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
    public long WorkspaceBytes => Backend.ScratchBytes + (cuda?.ScratchBytes ?? 0);

    /// <summary>
    /// Greedy decoding run by the fused CUDA engine for one sequence (prefill, then a captured decode graph whose argmax stays
    /// on the device, one token copied back per step), over an engine cache of <paramref name="capacity"/> positions (grown if
    /// needed); null without an engine. No backend cache is made, so the paged pool takes no slab for a sequence it never holds.
    /// </summary>
    internal IGreedyDecoder? GreedyDecoder(int capacity) => cuda?.GreedyDecoder(cuda.NewCache(Math.Max(capacity, 1)));

    /// <summary>
    /// <see cref="GreedyDecoder(int)"/> of <paramref name="cache"/>'s capacity: the engine reads only its own contiguous caches,
    /// so an empty <paramref name="cache"/> from <see cref="NewCache"/> gives its blocks back and the decoder fills an engine
    /// cache instead (the given cache stays empty).
    /// </summary>
    internal IGreedyDecoder? GreedyDecoder(KvCache cache)
    {
        if (cuda == null || cache.Length != 0) return null;
        int capacity = Math.Max(cache.Capacity, 1);
        cache.Release();
        return GreedyDecoder(capacity);
    }

    public void Dispose()
    {
        if (ownsBackend) Backend.Dispose();
        cuda?.Dispose();
        Checkpoint.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>An engine's own greedy loop over one cache: the prompt's next token, then one token per step.</summary>
internal interface IGreedyDecoder
{
    /// <summary>
    /// Prefills <paramref name="prompt"/> and returns the greedy next token. The caller asks for at most
    /// <paramref name="maxNewTokens"/> tokens in all (this one included): an engine may work ahead until then.
    /// </summary>
    int First(int[] prompt, int maxNewTokens, CancellationToken cancellationToken);
    /// <summary>Appends <paramref name="token"/> and returns the greedy token after it.</summary>
    int Next(int token);
}
