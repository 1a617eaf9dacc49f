using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>
/// The fused CUDA engine, kept as the batch-1 greedy decode fast path (<see cref="CausalLM.GreedyDecoder(int)"/>; every other
/// forward runs the architecture descriptions on <see cref="CudaBackend"/>, which reads these same device weights through
/// <see cref="Placed"/>): Llama, Qwen2, Phi and QWen with the weights resident on one GPU in their stored dtype, its own
/// contiguous float16 KV caches, and float32 activations where agreement needs them (residual stream, norms, softmax,
/// accumulation).
/// <list type="bullet">
/// <item>One token (decoding): the matrix-vector kernels of kernels/linear.cu with the norm, rotary, KV write
/// and activation fused in, flash-decoding attention, the whole step captured once per cache as a CUDA graph
/// and replayed; greedy decoding keeps the argmax on the device.</item>
/// <item>Many tokens (the prompt of a greedy decode): cuBLAS GEMMs over 16-bit operands with float32 accumulation,
/// attention as two batched GEMMs around a float32 causal softmax, in chunks.</item>
/// </list>
/// Calls on one instance must not overlap.
/// </summary>
public sealed partial class CudaEngine : IDisposable
{
    private readonly CudaLayer[] layers;
    private readonly ulong embedding, head, headBias, finalNorm, finalNormBias, invFreq;
    /// <summary>The final LayerNorm folded into the head (Phi, <see cref="FoldLayerNorm"/>); 0 otherwise.</summary>
    private readonly ulong headNormWg, headFoldedBias;
    private readonly List<(WeakReference<DeviceKvCache> Owner, DeviceKvMemory Memory)> caches = new();

    internal DeviceKvMemory AllocateMemory(int capacity)
    {
        Sweep(collect: false);
        try { return new DeviceKvMemory(this, capacity); }
        catch (CudaException) { Sweep(collect: true); return new DeviceKvMemory(this, capacity); }
    }

    /// <summary>Records that <paramref name="cache"/> now holds <paramref name="grown"/> instead of <paramref name="old"/>.</summary>
    internal void Replace(DeviceKvCache cache, DeviceKvMemory old, DeviceKvMemory grown)
    {
        lock (caches)
        {
            int at = caches.FindIndex(e => ReferenceEquals(e.Memory, old));
            if (at >= 0) caches[at] = (caches[at].Owner, grown);
            else caches.Add((new WeakReference<DeviceKvCache>(cache), grown));
        }
    }
    private readonly KernelArgs args = new();
    private readonly IntPtr cublas;
    private readonly Dictionary<string, (ulong Pointer, long Bytes)> scratch = new();
    private bool disposed;

    /// <summary>The families whose tensors this engine knows (their names as the checkpoint spells them).</summary>
    private enum Family { Llama, Qwen2, Phi, QWen }

    private readonly Family family;

    private static Family? FamilyOf(ModelConfig c) => c.ArchitectureName switch
    {
        "LlamaForCausalLM" => Family.Llama,
        "Qwen2ForCausalLM" => Family.Qwen2,
        "PhiForCausalLM" => Family.Phi,
        "QWenLMHeadModel" => Family.QWen,
        _ => null,
    };

    /// <summary>
    /// Whether the fused engine knows this checkpoint: its family (the engine's own tensor naming) and one matrix dtype.
    /// Others (Mistral, mixed dtypes) run on <see cref="CudaBackend"/> alone.
    /// </summary>
    internal static bool Supports(Checkpoint checkpoint) =>
        FamilyOf(checkpoint.Config) != null
        && checkpoint.Tensors.Values.Where(t => t.Rank == 2).Select(t => t.DType).Distinct().ToList() is [DType.F16 or DType.BF16 or DType.F32];

    private readonly Dictionary<string, PlacedMatrix> placed;

    /// <summary>Where the engine put checkpoint matrix <paramref name="name"/> on the device; null if it did not upload it whole.</summary>
    internal PlacedMatrix? Placed(string name) => placed.GetValueOrDefault(name);

    internal CudaEngine(Checkpoint checkpoint, EngineOptions options)
    {
        Checkpoint = checkpoint;
        Options = options;
        Config = checkpoint.Config;
        if (Options.Device is not { IsCuda: true } selection) throw new ArgumentException("EngineOptions.Device must name a CUDA device.", nameof(options));
        family = FamilyOf(Config) ?? throw new NotSupportedException(
            $"{checkpoint.Directory}: the fused CUDA engine runs Llama, Qwen2, Phi and QWen checkpoints; {Config.ArchitectureName} runs on the CUDA backend alone.");
        Style = family == Family.Phi ? BlockStyle.Parallel : BlockStyle.Sequential;
        var c = Config;
        if (c.HeadDim > 256)
            throw new NotSupportedException($"{checkpoint.Directory}: the fused CUDA engine's decode attention takes head_dim up to 256; this model's is {c.HeadDim}.");
        Device = CudaDevice.Open(selection.Ordinal);
        try
        {
            long planned = CudaWeights.PlannedBytes(checkpoint);
            var (free, total) = Device.MemoryInfo();
            if (planned + (256L << 20) > free)
                throw new CudaException($"{checkpoint.Directory}: the weights need {planned / (double)(1L << 30):F2} GiB on the device; " +
                    $"{Options.Device} ({Device.Name}) has {free / (double)(1L << 30):F2} of {total / (double)(1L << 30):F2} GiB free");
            Device.LoadKernels();
            CudaLibraries.EnsureCublas();
            unsafe
            {
                IntPtr h;
                Cublas.Check(Cublas.cublasCreate_v2(&h), "cublasCreate");
                Cublas.Check(Cublas.cublasSetStream_v2(h, Device.Stream), "cublasSetStream");
                cublas = h;
            }
            var weights = new CudaWeights(checkpoint, Device);
            var rope = new RotaryEmbedding(c.Rope);
            RotaryDim = rope.RotaryDim;
            invFreq = weights.Vector(rope.InverseFrequencies.ToArray(), "rotary frequencies");
            var embeddingView = checkpoint.Expect(EmbeddingName(c), c.VocabSize, c.HiddenSize);
            var headView = c.TieWordEmbeddings && !checkpoint.Contains(HeadName(c)) ? embeddingView : checkpoint.Expect(HeadName(c), c.VocabSize, c.HiddenSize);
            WeightDType = weights.CheckDType(checkpoint.Tensors.Values.Where(t => t.Rank == 2));
            layers = new CudaLayer[c.NumLayers];
            for (int i = 0; i < c.NumLayers; i++) layers[i] = LoadLayer(weights, i);
            embedding = weights.Whole(embeddingView);
            head = ReferenceEquals(headView, embeddingView) ? embedding : weights.Whole(headView);
            headBias = family == Family.Phi ? weights.Vector(checkpoint.Expect("lm_head.bias", c.VocabSize).ToFloatArray(), "lm_head.bias") : 0;
            (finalNorm, finalNormBias) = family switch
            {
                Family.Phi => (weights.Vector(Vec("model.final_layernorm.weight", c.HiddenSize), "final norm"),
                    weights.Vector(Vec("model.final_layernorm.bias", c.HiddenSize), "final norm bias")),
                Family.QWen => (weights.Vector(Vec("transformer.ln_f.weight", c.HiddenSize), "final norm"), 0UL),
                _ => (weights.Vector(Vec("model.norm.weight", c.HiddenSize), "final norm"), 0UL),
            };
            weights.ReleaseStaging();
            if (Style == BlockStyle.Parallel)
            {
                for (int i = 0; i < layers.Length; i++)
                {
                    var l = layers[i];
                    var (wg, folded) = FoldLayerNorm(l.Fused, l.FusedRows, l.Norm1, l.Norm1Bias, l.FusedBias, $"layer {i} q|k|v|fc1");
                    layers[i] = l with { Norm1Wg = wg, FoldedBias = folded };
                }
                (headNormWg, headFoldedBias) = FoldLayerNorm(head, c.VocabSize, finalNorm, finalNormBias, headBias, "head");
            }
            placed = weights.Placed;
            DeviceWeightBytes = weights.DeviceWeightBytes;
            KvWidths = Enumerable.Range(0, c.NumLayers).Select(l => c.Layer(l).NumKvHeads * c.HeadDim).ToArray();
            MaxHeads = Enumerable.Range(0, c.NumLayers).Max(l => c.Layer(l).NumHeads);
            Device.Synchronize();
        }
        catch
        {
            Device.Dispose();
            throw;
        }
    }

    public Checkpoint Checkpoint { get; }
    public EngineOptions Options { get; }
    public ModelConfig Config { get; }
    public int VocabSize => Config.VocabSize;
    public int MaxContext => Config.MaxPositions;
    internal CudaDevice Device { get; }
    internal BlockStyle Style { get; }
    internal int RotaryDim { get; }
    internal int[] KvWidths { get; }
    /// <summary>Bytes of the engine's device scratch buffers (prefill activations, logits), not weights or caches.</summary>
    public long ScratchBytes => scratch.Values.Sum(v => v.Bytes);
    internal int MaxHeads { get; }
    /// <summary>The checkpoint's matrix dtype, kept on the device.</summary>
    public DType WeightDType { get; }
    /// <summary>Bytes of weight matrices on the device (the decode floor's numerator streams nearly all of them).</summary>
    public long DeviceWeightBytes { get; }
    public string DeviceName => Device.Describe(Options.Device);
    public long PeakDeviceBytes => Device.PeakAllocatedBytes;
    public long DeviceBytes => Device.AllocatedBytes;
    public (long Free, long Total) DeviceMemory => Device.MemoryInfo();
    public string KernelCache => Device.KernelCacheNote;
    /// <summary>Replay the decode step as a captured CUDA graph (default) rather than launching its kernels one by one.</summary>
    public bool UseGraphs { get; set; } = true;

    /// <summary>
    /// The two vectors that let a LayerNorm (γ, β) be folded into the product W [n, hidden] after it (<see cref="FoldNorm"/>):
    /// W·((x − mean)·rstd·γ + β) + bias = rstd·(W·(x·γ) − mean·W·γ) + (bias + W·β). Both are worked out once here, float32,
    /// by the decode step's own matrix-vector kernel.
    /// </summary>
    internal (ulong Wg, ulong FoldedBias) FoldLayerNorm(ulong w, int n, ulong gamma, ulong beta, ulong bias, string what, int k = 0)
    {
        if (k == 0) k = Config.HiddenSize;
        ulong wg = Device.Alloc(n * 4L, what + ": W·γ of the folded norm");
        Gemv(new GemvArgs { W = w, X = gamma, Y = wg, N = n, K = k, Mode = ModeStore }, "fold norm");
        if (beta == 0) return (wg, bias);
        ulong folded = Device.Alloc(n * 4L, what + ": bias + W·β of the folded norm");
        Gemv(new GemvArgs { W = w, X = beta, Bias = bias, Y = folded, N = n, K = k, Mode = ModeStore }, "fold norm");
        return (wg, folded);
    }

    private static string EmbeddingName(ModelConfig c) => c.ArchitectureName == "QWenLMHeadModel" ? "transformer.wte.weight" : "model.embed_tokens.weight";
    private static string HeadName(ModelConfig c) => "lm_head.weight";

    private float[] Vec(string name, int length) => Checkpoint.Expect(name, length).ToFloatArray();

    private CudaLayer LoadLayer(CudaWeights w, int i)
    {
        var c = Config;
        var shape = c.Layer(i);
        int d = c.HiddenSize, hd = c.HeadDim, heads = shape.NumHeads, kvh = shape.NumKvHeads, f = shape.IntermediateSize;
        int q = heads * hd, kv = kvh * hd, rot = RotaryDim;
        TensorView M(string name, int rows, int cols) => Checkpoint.Expect(name, rows, cols);
        float[] V(string name, int n) => Vec(name, n);
        float[] Concat(params float[][] parts) => parts.SelectMany(p => p).ToArray();
        switch (family)
        {
            case Family.QWen:
            {
                string p = $"transformer.h.{i}.";
                var cAttn = M(p + "attn.c_attn.weight", 3 * q, d);
                var cBias = V(p + "attn.c_attn.bias", 3 * q);
                var fused = w.Matrix(p + "attn.c_attn", d, CudaWeights.RotaryRows(cAttn, 0, heads, hd, rot)
                    .Concat(CudaWeights.RotaryRows(cAttn, q, heads, hd, rot)).Concat(CudaWeights.Rows(cAttn, 2 * q, q)).ToList());
                var bias = Concat(CudaWeights.RotaryVector(cBias, 0, heads, hd, rot), CudaWeights.RotaryVector(cBias, q, heads, hd, rot), cBias[(2 * q)..]);
                // QWen's MLP is c_proj(w1(x) · silu(w2(x))): w2 is the gate, w1 the up projection.
                var gateUp = w.Matrix(p + "mlp.w2|w1", d, CudaWeights.Interleaved(M(p + "mlp.w2.weight", f, d), M(p + "mlp.w1.weight", f, d)).ToList());
                return new CudaLayer(heads, heads, f, fused, 3 * q, w.Vector(bias, p + "c_attn.bias"),
                    w.Whole(M(p + "attn.c_proj.weight", d, q)), 0, gateUp, 0, w.Whole(M(p + "mlp.c_proj.weight", d, f)), 0,
                    w.Vector(V(p + "ln_1.weight", d), "ln_1"), 0, w.Vector(V(p + "ln_2.weight", d), "ln_2"));
            }
            case Family.Phi:
            {
                string p = $"model.layers.{i}.";
                var qw = M(p + "self_attn.q_proj.weight", q, d);
                var kw = M(p + "self_attn.k_proj.weight", kv, d);
                var vw = M(p + "self_attn.v_proj.weight", kv, d);
                var fc1 = M(p + "mlp.fc1.weight", f, d);
                var fused = w.Matrix(p + "q|k|v|fc1", d, CudaWeights.RotaryRows(qw, 0, heads, hd, rot)
                    .Concat(CudaWeights.RotaryRows(kw, 0, kvh, hd, rot)).Concat(CudaWeights.Rows(vw, 0, kv)).Concat(CudaWeights.Rows(fc1, 0, f)).ToList());
                var bias = Concat(CudaWeights.RotaryVector(V(p + "self_attn.q_proj.bias", q), 0, heads, hd, rot),
                    CudaWeights.RotaryVector(V(p + "self_attn.k_proj.bias", kv), 0, kvh, hd, rot),
                    V(p + "self_attn.v_proj.bias", kv), V(p + "mlp.fc1.bias", f));
                return new CudaLayer(heads, kvh, f, fused, q + 2 * kv + f, w.Vector(bias, p + "fused bias"),
                    w.Whole(M(p + "self_attn.dense.weight", d, q)), w.Vector(V(p + "self_attn.dense.bias", d), "dense.bias"),
                    0, 0, w.Whole(M(p + "mlp.fc2.weight", d, f)), w.Vector(V(p + "mlp.fc2.bias", d), "fc2.bias"),
                    w.Vector(V(p + "input_layernorm.weight", d), "input_layernorm"), w.Vector(V(p + "input_layernorm.bias", d), "input_layernorm.bias"), 0);
            }
            default:
            {
                string p = $"model.layers.{i}.";
                var qw = M(p + "self_attn.q_proj.weight", q, d);
                var kw = M(p + "self_attn.k_proj.weight", kv, d);
                var vw = M(p + "self_attn.v_proj.weight", kv, d);
                var fused = w.Matrix(p + "q|k|v", d, CudaWeights.RotaryRows(qw, 0, heads, hd, rot)
                    .Concat(CudaWeights.RotaryRows(kw, 0, kvh, hd, rot)).Concat(CudaWeights.Rows(vw, 0, kv)).ToList());
                ulong fusedBias = c.AttentionBias
                    ? w.Vector(Concat(CudaWeights.RotaryVector(V(p + "self_attn.q_proj.bias", q), 0, heads, hd, rot),
                        CudaWeights.RotaryVector(V(p + "self_attn.k_proj.bias", kv), 0, kvh, hd, rot), V(p + "self_attn.v_proj.bias", kv)), "qkv bias")
                    : 0;
                ulong outBias = family == Family.Llama && c.AttentionBias ? w.Vector(V(p + "self_attn.o_proj.bias", d), "o_proj.bias") : 0;
                var gateUp = w.Matrix(p + "gate|up", d, CudaWeights.Interleaved(M(p + "mlp.gate_proj.weight", f, d), M(p + "mlp.up_proj.weight", f, d)).ToList());
                ulong gateUpBias = c.MlpBias ? w.Vector(CudaWeights.InterleavedVector(V(p + "mlp.gate_proj.bias", f), V(p + "mlp.up_proj.bias", f)), "gate|up bias") : 0;
                ulong downBias = c.MlpBias ? w.Vector(V(p + "mlp.down_proj.bias", d), "down_proj.bias") : 0;
                return new CudaLayer(heads, kvh, f, fused, q + 2 * kv, fusedBias,
                    w.Whole(M(p + "self_attn.o_proj.weight", d, q)), outBias, gateUp, gateUpBias,
                    w.Whole(M(p + "mlp.down_proj.weight", d, f)), downBias,
                    w.Vector(V(p + "input_layernorm.weight", d), "input_layernorm"), 0, w.Vector(V(p + "post_attention_layernorm.weight", d), "post_attention_layernorm"));
            }
        }
    }

    /// <summary>A cache in the engine's own contiguous device storage (the fused decode path reads only these).</summary>
    internal KvCache NewCache(int capacity) => new(CreateKvStorage, Config.NumLayers, MaxContext, capacity);

    /// <summary>Device storage for a new engine <see cref="KvCache"/>.</summary>
    internal IKvStorage CreateKvStorage(int capacity)
    {
        Device.MakeCurrent();
        return AllocateCache(Math.Clamp(capacity, 1, MaxContext));
    }

    /// <summary>Device storage for a cache; frees first the memory of caches nobody holds any more.</summary>
    internal DeviceKvCache AllocateCache(int capacity)
    {
        Sweep(collect: false);
        DeviceKvCache cache;
        try { cache = new DeviceKvCache(this, capacity); }
        catch (CudaException)
        {
            Sweep(collect: true);
            cache = new DeviceKvCache(this, capacity);
        }
        lock (caches) caches.Add((new WeakReference<DeviceKvCache>(cache), cache.Memory));
        return cache;
    }

    private void Sweep(bool collect)
    {
        if (collect) { GC.Collect(); GC.WaitForPendingFinalizers(); }
        lock (caches)
            for (int i = caches.Count - 1; i >= 0; i--)
                if (!caches[i].Owner.TryGetTarget(out _)) { caches[i].Memory.Release(); caches.RemoveAt(i); }
    }

    /// <summary>The cache's device storage, with room for <paramref name="needed"/> positions (grown as the CPU cache grows).</summary>
    private DeviceKvCache Storage(KvCache cache, int needed)
    {
        if (cache.Storage is not DeviceKvCache device)
            throw new InvalidOperationException("This KV cache belongs to another engine; the CUDA engine needs a cache from its own model's NewCache.");
        if (needed > device.Capacity) cache.Reserve(needed - cache.Length);
        return device;
    }

    /// <summary>A scratch buffer of at least <paramref name="bytes"/>, kept by name across calls.</summary>
    private ulong Scratch(string name, long bytes)
    {
        if (scratch.TryGetValue(name, out var s) && s.Bytes >= bytes) return s.Pointer;
        if (s.Pointer != 0) { Device.Synchronize(); Device.Free(s.Pointer); }
        long size = Math.Max(bytes, 256);
        ulong p = Device.Alloc(size, name);
        scratch[name] = (p, size);
        return p;
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        Device.MakeCurrent();
        lock (caches) foreach (var (_, memory) in caches) memory.Release();
        if (cublas != IntPtr.Zero) Cublas.cublasDestroy_v2(cublas);
        Device.Synchronize();
        readback?.Dispose();
        args.Dispose();
        Device.Dispose();
    }
}
