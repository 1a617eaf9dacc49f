using System.Runtime.InteropServices;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>The matrix-vector kernel's arguments; the same layout as <c>struct GemvArgs</c> in kernels/linear.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GemvArgs
{
    public ulong W, X, Bias, Y, QOut, KCache, VCache, Pos, Rotation, FOut, W2, X2, Bias2;
    public int N, K, K2, Mode, Nq, Nkv, HeadDim, RotDim, Act, KvWidth, Vec, LateTrigger, InputReady;
    public ulong AttPart, AttDone, AttOut;
    public int AttBlocks, AttHeads, AttKvHeads, AttSplits;
    public float AttScale;
    public ulong NormW, NormWg;
    public int NormMode;
    public float NormEps;
    public ulong NormParts;
    public int NormPartCount;
    public ulong NormNextW, NormXg, NormPartsOut;
}

/// <summary>Where the decode step's norms run (<see cref="CudaEngine.NormFold"/>).</summary>
internal enum NormFolding
{
    /// <summary>A one-block norm kernel before each product that reads the normed x.</summary>
    Kernels = 0,
    /// <summary>In the product: its "n" kernel reads the raw residual and γ and sums x² (and x) beside its rows.</summary>
    InProduct = 1,
    /// <summary>
    /// Split over the two products around it: the residual-add product writes x·γ and one (Σx², Σx) pair per row group, and
    /// the next product's "p" kernel sums the pairs and scales its rows.
    /// </summary>
    FromProducer = 2,
}

public sealed partial class CudaEngine
{
    private const int GemvThreads = 256;

    /// <summary>Rows per group of the matrix-vector kernels (kernels/linear.cu: 4 or 8; EDGELLM_GEMV_ROWS overrides, for A/B runs).</summary>
    internal static int GemvRowsPerBlock { get; } = Environment.GetEnvironmentVariable("EDGELLM_GEMV_ROWS") == "8" ? 8 : 4;

    /// <summary>
    /// The matrix-vector kernel (kernels/linear.cu): over one product or two ("t"); "x" when every row is one round of
    /// loads and x stays in registers.
    /// </summary>
    internal static string GemvKernel(string suffix, bool two = false, bool one = false, bool attention = false, NormFolding norm = NormFolding.Kernels) =>
        $"gemv{GemvRowsPerBlock}{(one ? "x" : "")}{(two ? "t" : "")}{(attention ? "a" : "")}{norm switch { NormFolding.InProduct => "n", NormFolding.FromProducer => "p", _ => "" }}_{suffix}";

    /// <summary>
    /// Blocks per multiprocessor of the persistent grid of products whose rows take several rounds of loads: each block runs
    /// several row groups, loading the next group's weights during the current one's reduction. 0 launches one block per
    /// row group. Unset (null), the persistent grid of <see cref="PersistentBlocksPerSm"/> is taken when the product has
    /// fewer than <see cref="PersistentBelowGroupsPerSm"/> row groups per multiprocessor (Phi-2's dense|fc2: 640 groups on
    /// 132, whose one-block grid runs in 1.6 waves), one block per group otherwise (measured: docs/performance.md, "CUDA,
    /// fifth session"). EDGELLM_GEMV_PER_SM sets it for A/B runs.
    /// </summary>
    internal int? GemvBlocksPerSm { get; set; } = PerSm("EDGELLM_GEMV_PER_SM");

    private const int PersistentBlocksPerSm = 3, PersistentBelowGroupsPerSm = 6;

    /// <summary>The same for products whose rows are one round of loads (EDGELLM_GEMV_ONE_PER_SM); 0, one block per row group.</summary>
    internal int GemvOneRoundBlocksPerSm { get; set; } = PerSm("EDGELLM_GEMV_ONE_PER_SM") ?? 0;

    private static int? PerSm(string variable) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out int n) && n >= 0 ? n : null;

    /// <summary>
    /// One-round products on a persistent grid may keep each thread's chunks of x in registers across row groups (the "x"
    /// kernels). EDGELLM_GEMV_ONE=0 turns them off, for A/B runs.
    /// </summary>
    internal bool GemvOneRound { get; set; } = Environment.GetEnvironmentVariable("EDGELLM_GEMV_ONE") != "0";

    /// <summary>
    /// A cap on the persistent grids (the self-test sets a few blocks, so that every block runs many row groups;
    /// EDGELLM_GEMV_MAX_BLOCKS for A/B runs, e.g. 320 so that Phi-2's 640 dense|fc2 row groups split evenly, two a block).
    /// </summary>
    internal int GemvMaxBlocks { get; set; } = PerSm("EDGELLM_GEMV_MAX_BLOCKS") is int n and > 0 ? n : int.MaxValue;

    private const int GemvChunksPerRound = 2 * GemvThreads; // U = 2 chunks per thread (kernels/linear.cu)

    /// <summary>Whether every row of a product over k (+ k2) columns is 16-byte aligned (the vectorised kernels).</summary>
    private bool GemvVectorised(int k, int k2) => k * ElementSize % 16 == 0 && k2 * ElementSize % 16 == 0;

    /// <summary>Whether each row is one round of 16-byte loads (the kernels that may keep x in registers).</summary>
    private bool GemvOneRoundRows(int k, int k2) => GemvVectorised(k, k2) && (k + k2) * ElementSize / 16 <= GemvChunksPerRound;

    /// <summary>
    /// Combine the attention splits in the attention kernel (each head's last block) and run Phi's dense and fc2 as one
    /// product (default): launches fewer on the decode step's critical path. Off (EDGELLM_CUDA_FUSE=0, for A/B runs and
    /// the self-test's comparison), each is its own kernel.
    /// </summary>
    internal bool FuseDecode { get; set; } = Environment.GetEnvironmentVariable("EDGELLM_CUDA_FUSE") != "0";

    /// <summary>
    /// Phi's decode attention runs beside fc1 (default, with <see cref="FuseDecode"/>): q|k|v is its own product, and the next
    /// kernel's first blocks run the attention splits while the rest stream fc1's rows, which need only the normed x, so
    /// attention leaves the step's critical path. Off (EDGELLM_CUDA_ATTN_MLP=0, for A/B runs and the self-test), q|k|v|fc1
    /// is one product and attention follows it. Head dimensions up to 128 (the "a" kernels hold 4 channels a lane).
    /// </summary>
    internal bool AttentionBesideMlp { get; set; } = Environment.GetEnvironmentVariable("EDGELLM_CUDA_ATTN_MLP") != "0";

    /// <summary>
    /// Where the decode step's norms run (kernels/linear.cu, GemvArgs.norm_w and norm_parts): folded into the products so
    /// that no norm kernel runs, and no product waits for one, between layers; or each its own kernel
    /// (EDGELLM_CUDA_FOLD_NORM=0, 1 or 2 for <see cref="NormFolding"/>'s three ways, for A/B runs and the self-test).
    /// Unset, Llama, Qwen2 and QWen take <see cref="NormFolding.FromProducer"/>; Phi keeps its norm kernels, which measured faster
    /// there (its LayerNorm adds W·γ to each folded row, and one norm feeds two products; docs/performance.md, "CUDA, eleventh session").
    /// </summary>
    internal NormFolding NormFold
    {
        get => normFold ?? (Style == BlockStyle.Parallel ? NormFolding.Kernels : NormFolding.FromProducer);
        set => normFold = value;
    }

    private NormFolding? normFold = Environment.GetEnvironmentVariable("EDGELLM_CUDA_FOLD_NORM") switch
    {
        "0" => NormFolding.Kernels,
        "1" => NormFolding.InProduct,
        "2" => NormFolding.FromProducer,
        _ => null,
    };

    private bool FoldNorm => NormFold != NormFolding.Kernels;

    private const int NormRms = 1, NormLayer = 2;
    private const int ModeStore = 0, ModeAdd = 1, ModeFused = 2;
    private const int ActNone = 0, ActSilu = 1, ActGelu = 2;

    /// <summary>
    /// Fixed buffers of the one-token step (a captured graph holds their addresses). State holds the token and position,
    /// the step's rotation ((cos, sin) for each of the rot / 2 frequencies, written by decode_embed) and one counter per head
    /// (attention blocks take a ticket; the head's last one combines its splits and resets it).
    /// </summary>
    private sealed record DecodeBuffers(ulong X, ulong Normed, ulong Q, ulong Attn, ulong Ff, ulong Hidden, ulong Logits, ulong State, int RotaryDim,
        ulong NormParts)
    {
        public ulong Token => State;
        public ulong Position => State + 4;
        public ulong Rotation => State + 16;
        public ulong SplitsDone => State + 16 + 4UL * (ulong)RotaryDim;
        public static long StateBytes(int heads, int rotaryDim) => 16 + 4L * rotaryDim + 4L * heads;
    }

    private DecodeBuffers? decode;

    private DecodeBuffers Decode
    {
        get
        {
            if (decode != null) return decode;
            var c = Config;
            int q = MaxHeads * c.HeadDim, f = Enumerable.Range(0, c.NumLayers).Max(l => c.Layer(l).IntermediateSize);
            return decode = new DecodeBuffers(
                Device.Alloc(c.HiddenSize * 4L, "decode x"), Device.Alloc(c.HiddenSize * 4L, "decode normed x"), Device.Alloc(q * 4L, "decode q"), Device.Alloc(q * 4L, "decode attn"),
                Device.Alloc(f * 4L, "decode mlp"), Device.Alloc(c.HiddenSize * 4L, "decode hidden"),
                Device.Alloc(c.VocabSize * 4L, "decode logits"), ZeroedState(), RotaryDim,
                Device.Alloc(8L * NormPartsOf(c.HiddenSize), "decode norm statistics: (Σx², Σx) per row group"));
            ulong ZeroedState()
            {
                long bytes = DecodeBuffers.StateBytes(MaxHeads, RotaryDim);
                ulong p = Device.Alloc(bytes, "decode state: token, position, counters");
                Device.ZeroAsync(p, bytes);
                return p;
            }
        }
    }

    private string Suffix => WeightDType switch { DType.F16 => "f16", DType.BF16 => "bf16", _ => "f32" };
    private int CublasType => WeightDType switch { DType.F16 => Cublas.R16F, DType.BF16 => Cublas.R16BF, _ => Cublas.R32F };
    private int ElementSize => WeightDType.SizeOf();
    private int NormMode => Style == BlockStyle.Parallel ? NormLayer : NormRms;
    private float Eps => (float)Config.NormEps;

    /// <summary>The (Σx², Σx) pairs a residual-add product over <paramref name="rows"/> rows leaves for the next norm: one per row group.</summary>
    private static int NormPartsOf(int rows) => (rows + GemvRowsPerBlock - 1) / GemvRowsPerBlock;

    private static int Blocks(long work, int threads = 256) => (int)Math.Clamp((work + threads - 1) / threads, 1, 65535);

    private void Gemv(GemvArgs a, string label)
    {
        a.Vec = GemvVectorised(a.K, a.K2) ? 1 : 0;
        bool oneRound = GemvOneRoundRows(a.K, a.K2);
        int groups = (a.N + GemvRowsPerBlock - 1) / GemvRowsPerBlock;
        int perSm = oneRound ? GemvOneRoundBlocksPerSm
            : GemvBlocksPerSm ?? (groups < PersistentBelowGroupsPerSm * Device.Multiprocessors ? PersistentBlocksPerSm : 0);
        bool attention = a.AttBlocks > 0;
        if (a.InputReady != 0 && !attention)
            throw new InvalidOperationException($"{label}: rows that do not wait need attention blocks that do, or the kernel after it could start before the one before it completes.");
        var norm = a.NormParts != 0 ? NormFolding.FromProducer : a.NormMode != 0 ? NormFolding.InProduct : NormFolding.Kernels;
        if (norm != NormFolding.Kernels && a.K2 != 0) throw new InvalidOperationException($"{label}: a folded norm takes one product.");
        bool one = oneRound && GemvOneRound && perSm > 0 && !attention && norm == NormFolding.Kernels;
        int grid = perSm == 0 ? groups : Math.Min(Math.Min(groups, perSm * Device.Multiprocessors), GemvMaxBlocks);
        Launch(GemvKernel(Suffix, two: a.K2 != 0, one: one, attention: attention, norm: norm), grid + a.AttBlocks, 1, GemvThreads, 0, args.Reset().Struct(a), label);
    }

    /// <summary>y [n] = W·x (+ W2·x2 when k2 > 0) through the decode step's matrix-vector launch, on device buffers: the self-test's probe at real widths.</summary>
    internal void GemvProbe(ulong w, ulong x, ulong w2, ulong x2, ulong y, int n, int k, int k2)
    {
        Gemv(new GemvArgs { W = w, X = x, W2 = w2, X2 = x2, Y = y, N = n, K = k, K2 = k2, Mode = ModeStore }, "probe");
        Device.Synchronize();
    }

    /// <summary>The same with a norm folded in (<see cref="FoldNorm"/>): y = W·norm(x) + bias, x the raw input.</summary>
    internal void GemvProbeNormed(ulong w, ulong x, ulong y, int n, int k, ulong gamma, ulong wg, ulong bias, bool layerNorm, float eps)
    {
        Gemv(new GemvArgs
        {
            W = w, X = x, Y = y, Bias = bias, N = n, K = k, Mode = ModeStore,
            NormW = gamma, NormWg = wg, NormMode = layerNorm ? NormLayer : NormRms, NormEps = eps,
        }, "probe");
        Device.Synchronize();
    }

    /// <summary>
    /// The same with the norm's statistics from the product before (<see cref="NormFolding.FromProducer"/>): x += W₁·v over k rows
    /// leaves x·γ in <paramref name="xg"/> and its (Σx², Σx) pairs in <paramref name="parts"/>, then y = W·norm(x) + bias.
    /// </summary>
    internal void GemvProbeProduced(ulong w1, ulong v, int m, ulong x, ulong gamma, ulong xg, ulong parts, ulong w, ulong y, int n, int k,
        ulong wg, ulong bias, bool layerNorm, float eps)
    {
        Gemv(new GemvArgs { W = w1, X = v, Y = x, N = k, K = m, Mode = ModeAdd, NormNextW = gamma, NormXg = xg, NormPartsOut = parts }, "probe");
        Gemv(new GemvArgs
        {
            W = w, X = xg, Y = y, Bias = bias, N = n, K = k, Mode = ModeStore, NormParts = parts, NormPartCount = NormPartsOf(k),
            NormW = gamma, NormWg = wg, NormMode = layerNorm ? NormLayer : NormRms, NormEps = eps,
        }, "probe");
        Device.Synchronize();
    }

    // ---------------------------------------------------------------- one token

    /// <summary>The decode step with the head and argmax (greedy decoding): the final norm folded into the head when <see cref="FoldNorm"/>.</summary>
    private void EnqueueStep(DeviceKvCache cache)
    {
        EnqueueBody(cache, finalNorm: !FoldNorm);
        EnqueueHead(fromResidual: FoldNorm);
    }

    /// <summary>
    /// Embedding → every block, for the token and position held in device memory; then (<paramref name="finalNorm"/>) the
    /// final norm into "hidden".
    /// </summary>
    private void EnqueueBody(DeviceKvCache cache, bool finalNorm = true)
    {
        var c = Config;
        var b = Decode;
        int hd = c.HeadDim, dim = c.HiddenSize;
        bool parallel = Style == BlockStyle.Parallel, fold = FoldNorm, produce = NormFold == NormFolding.FromProducer;
        Launch("decode_embed_" + Suffix, 1, 1, 256, 0, args.Reset().Ptr(embedding).Ptr(b.Token).Ptr(b.Position).Ptr(b.X).Int(dim)
            .Ptr(invFreq).Int(RotaryDim / 2).Ptr(b.Rotation).Ptr(produce ? layers[0].Norm1 : 0).Ptr(produce ? b.Normed : 0)
            .Ptr(produce ? b.NormParts : 0), "embed");
        normPartsNow = 1; // the embedding's one pair
        for (int l = 0; l < layers.Length; l++)
        {
            var w = layers[l];
            int nq = w.QRows(hd), nkv = w.KvWidth(hd);
            if (!fold) NormOne(b.X, w.Norm1, w.Norm1Bias, b.Normed, NormMode);
            if (parallel && FuseDecode && AttentionBesideMlp && hd <= 128 && w.Intermediate > 0)
            {
                EnqueueAttentionBesideMlp(cache, l, w, b);
                continue;
            }
            Gemv(Norm1(w, 0, new GemvArgs
            {
                W = w.Fused, Bias = w.FusedBias, QOut = b.Q,
                KCache = cache.LayerKeys(l), VCache = cache.LayerValues(l), Pos = b.Position, Rotation = b.Rotation, FOut = b.Ff,
                N = w.FusedRows, K = dim, Mode = ModeFused, Nq = nq, Nkv = nkv, HeadDim = hd,
                RotDim = RotaryDim, Act = parallel ? ActGelu : ActNone, KvWidth = nkv,
            }), parallel ? "gemv q|k|v|fc1" : "gemv q|k|v");
            EnqueueAttention(cache, l, w, b);
            if (parallel && FuseDecode)
            {
                DenseAndFc2(w, l, b);
                continue;
            }
            var outProj = new GemvArgs { W = w.Out, X = b.Attn, Bias = w.OutBias, Y = b.X, N = dim, K = nq, Mode = ModeAdd };
            Gemv(parallel ? outProj : Produces(outProj, w.Norm2), "gemv o_proj (+x)"); // Phi's next norm follows fc2
            if (!parallel)
            {
                var gateUp = new GemvArgs
                {
                    W = w.GateUp, X = b.Normed, Bias = w.GateUpBias, FOut = b.Ff, Pos = b.Position,
                    N = 2 * w.Intermediate, K = dim, Mode = ModeFused, Act = ActSilu, HeadDim = hd,
                };
                if (fold) gateUp = Folded(gateUp, w.Norm2, 0, NormRms);
                else NormOne(b.X, w.Norm2, 0, b.Normed, NormRms);
                Gemv(gateUp, "gemv gate|up (silu)");
            }
            Gemv(Produces(new GemvArgs { W = w.Down, X = b.Ff, Bias = w.DownBias, Y = b.X, N = dim, K = w.Intermediate, Mode = ModeAdd }, NextNorm(l)),
                "gemv down/fc2 (+x)");
        }
        if (finalNorm) NormOne(b.X, this.finalNorm, finalNormBias, b.Hidden, NormMode);
    }

    /// <summary>
    /// A product over the normed x of norm1: with <see cref="FoldNorm"/>, over the raw residual stream with the norm folded
    /// in (from row <paramref name="firstRow"/> of the layer's fused rows, whose LayerNorm terms start there too); otherwise
    /// over the normed x the norm kernel wrote.
    /// </summary>
    private GemvArgs Norm1(CudaLayer w, int firstRow, GemvArgs a)
    {
        if (!FoldNorm) return a with { X = Decode.Normed };
        if (NormMode == NormLayer)
            a = a with { Bias = w.FoldedBias + (ulong)(firstRow * 4L) };
        return Folded(a, w.Norm1, w.Norm1Wg == 0 ? 0 : w.Norm1Wg + (ulong)(firstRow * 4L), NormMode);
    }

    /// <summary>
    /// The product folds the norm with weights <paramref name="norm"/> into its rows: over the raw residual stream
    /// (<see cref="NormFolding.InProduct"/>), or over x·γ with the statistics the kernel before left (<see cref="NormFolding.FromProducer"/>).
    /// </summary>
    private GemvArgs Folded(GemvArgs a, ulong norm, ulong wg, int mode) => NormFold == NormFolding.FromProducer
        ? a with { X = Decode.Normed, NormParts = Decode.NormParts, NormPartCount = normPartsNow, NormW = norm, NormWg = wg, NormMode = mode, NormEps = Eps }
        : a with { X = Decode.X, NormW = norm, NormWg = wg, NormMode = mode, NormEps = Eps };

    /// <summary>The (Σx², Σx) pairs the last producer queued leaves (the embedding's one, or one per row group).</summary>
    private int normPartsNow;

    /// <summary>A residual-add product that, with <see cref="NormFolding.FromProducer"/>, also leaves x·γ and the statistics of the norm with weights <paramref name="nextNorm"/>.</summary>
    private GemvArgs Produces(GemvArgs a, ulong nextNorm)
    {
        if (NormFold != NormFolding.FromProducer) return a;
        normPartsNow = NormPartsOf(a.N);
        return a with { NormNextW = nextNorm, NormXg = Decode.Normed, NormPartsOut = Decode.NormParts };
    }

    /// <summary>The norm after layer <paramref name="l"/>'s last residual add: the next layer's first, or the final norm.</summary>
    private ulong NextNorm(int l) => l + 1 < layers.Length ? layers[l + 1].Norm1 : finalNorm;

    /// <summary>
    /// Phi's block with attention beside fc1: q|k|v (letting the next kernel launch once the normed x is complete), then one
    /// kernel whose first blocks run the attention splits (after waiting for q|k|v) and whose other blocks stream fc1's
    /// rows (the same rows of the fused weight, from the normed x at once), then dense|fc2 into the residual stream.
    /// </summary>
    private void EnqueueAttentionBesideMlp(DeviceKvCache cache, int l, CudaLayer w, DecodeBuffers b)
    {
        var c = Config;
        int hd = c.HeadDim, dim = c.HiddenSize, nq = w.QRows(hd), nkv = w.KvWidth(hd), qkv = nq + 2 * nkv;
        Gemv(Norm1(w, 0, new GemvArgs
        {
            W = w.Fused, Bias = w.FusedBias, QOut = b.Q,
            KCache = cache.LayerKeys(l), VCache = cache.LayerValues(l), Pos = b.Position, Rotation = b.Rotation,
            N = qkv, K = dim, Mode = ModeFused, Nq = nq, Nkv = nkv, HeadDim = hd, RotDim = RotaryDim, Act = ActNone, KvWidth = nkv,
            LateTrigger = 1,
        }), "gemv q|k|v");
        Gemv(Norm1(w, qkv, new GemvArgs
        {
            W = w.Fused + (ulong)((long)qkv * dim * ElementSize), Bias = w.FusedBias == 0 ? 0 : w.FusedBias + (ulong)(qkv * 4L),
            FOut = b.Ff, Pos = b.Position, N = w.FusedRows - qkv, K = dim, Mode = ModeFused, HeadDim = hd, Act = ActGelu, InputReady = 1,
            QOut = b.Q, KCache = cache.LayerKeys(l), VCache = cache.LayerValues(l), KvWidth = nkv,
            AttPart = cache.Partials, AttDone = b.SplitsDone, AttOut = b.Attn, AttBlocks = (w.Heads * cache.Splits + 1) / 2,
            AttHeads = w.Heads, AttKvHeads = w.KvHeads, AttSplits = cache.Splits, AttScale = 1f / MathF.Sqrt(hd),
        }), "gemv fc1 + attention");
        DenseAndFc2(w, l, b);
    }

    /// <summary>Phi: x += dense(attn) + fc2(mlp), one kernel over both products' columns.</summary>
    private void DenseAndFc2(CudaLayer w, int l, DecodeBuffers b) => Gemv(Produces(new GemvArgs
    {
        W = w.Out, X = b.Attn, Bias = w.OutBias, K = w.QRows(Config.HeadDim), W2 = w.Down, X2 = b.Ff, Bias2 = w.DownBias, K2 = w.Intermediate,
        Y = b.X, N = Config.HiddenSize, Mode = ModeAdd,
    }, NextNorm(l)), "gemv dense|fc2 (+x)");

    /// <summary>Flash-decoding over the cache: the splits, combined by each head's last block (or by their own kernel when not fused).</summary>
    private void EnqueueAttention(DeviceKvCache cache, int l, CudaLayer w, DecodeBuffers b)
    {
        int hd = Config.HeadDim, nkv = w.KvWidth(hd);
        Launch(hd <= 128 ? "attn_decode_d4" : "attn_decode_d8", w.Heads, cache.Splits, 128, 0, args.Reset().Ptr(b.Q).Ptr(cache.LayerKeys(l))
            .Ptr(cache.LayerValues(l)).Ptr(b.Position).Ptr(cache.Partials).Ptr(FuseDecode ? b.SplitsDone : 0).Ptr(b.Attn)
            .Int(w.Heads).Int(w.KvHeads).Int(hd).Int(nkv).Int(cache.Splits).Float(1f / MathF.Sqrt(hd)), FuseDecode ? "attention" : "attention (splits)");
        if (!FuseDecode)
            Launch("attn_decode_combine", w.Heads, 1, 128, 0, args.Reset().Ptr(cache.Partials).Ptr(b.Position).Ptr(b.Attn)
                .Int(hd).Int(cache.Splits), "attention (combine)");
    }

    /// <summary>
    /// Head over "hidden" (the final-normed last row), or with the final norm folded in over the residual stream
    /// (<paramref name="fromResidual"/>), then argmax: the next token and position, in device memory.
    /// </summary>
    private void EnqueueHead(bool fromResidual = false)
    {
        var b = Decode;
        var a = new GemvArgs { W = head, Bias = headBias, Y = b.Logits, N = Config.VocabSize, K = Config.HiddenSize, Mode = ModeStore, X = b.Hidden };
        if (fromResidual)
            a = Folded(NormMode == NormLayer ? a with { Bias = headFoldedBias } : a, finalNorm, headNormWg, NormMode);
        Gemv(a, "gemv head");
        Launch("argmax_advance", 1, 1, 1024, 0, args.Reset().Ptr(b.Logits).Int(Config.VocabSize).Ptr(b.Token).Ptr(b.Position), "argmax");
    }

    /// <summary>RMSNorm or LayerNorm of the one decode row, a block of 1024 threads.</summary>
    private void NormOne(ulong x, ulong w, ulong b, ulong output, int mode) =>
        Launch("norm_rows_f32", 1, 1, 1024, 0, args.Reset().Ptr(x).Ptr(w).Ptr(b).Ptr(output).Int(Config.HiddenSize).Int(mode).Float(Eps), "norm");

    /// <summary>When set (the benchmark's profile), every launch of the decode step is timed on the device by role.</summary>
    private CudaKernelTimer? profile;

    private void Launch(string kernel, int gridX, int gridY, int block, int sharedBytes, KernelArgs a, string label)
    {
        if (profile == null) { Device.LaunchOverlapped(kernel, gridX, gridY, block, sharedBytes, a); return; }
        var start = profile.Start();
        Device.Launch(kernel, gridX, gridY, block, sharedBytes, a); // timed alone: no overlap with its neighbours
        profile.Stop(label, start);
    }

    /// <summary>
    /// Runs <paramref name="steps"/> decode steps kernel by kernel, each launch timed on the device (<see cref="CudaKernelTimer"/>):
    /// where a step's time goes, per role, in ms per step. The gaps between launches are not in it; graph replay shortens them.
    /// </summary>
    internal IReadOnlyDictionary<string, double> ProfileDecode(KvCache cache, int[] prompt, int steps)
    {
        var decoder = new CudaGreedyDecoder(this, cache);
        int token = decoder.First(prompt, 1, CancellationToken.None);
        var device = Storage(cache, cache.Length + steps);
        SetTokenAndPosition(token, cache.Length);
        using var timer = new CudaKernelTimer(Device);
        profile = timer;
        try
        {
            for (int i = 0; i < steps; i++) EnqueueStep(device);
            var totals = timer.Collect();
            cache.Advance(steps);
            return totals.OrderByDescending(p => p.Value.Ms).ToDictionary(p => $"{p.Key} ×{p.Value.Count / steps}", p => p.Value.Ms / steps);
        }
        finally { profile = null; }
    }

    /// <summary>Registers and occupancy of the decode step's kernels (the benchmark reports them beside the profile).</summary>
    internal IReadOnlyDictionary<string, string> DecodeKernelResources()
    {
        var kernels = new[] { false, true }.SelectMany(one => new[] { GemvKernel(Suffix, one: one), GemvKernel(Suffix, two: true, one: one) })
            .Append(GemvKernel(Suffix, attention: true)).Concat(new[] { NormFolding.InProduct, NormFolding.FromProducer }.SelectMany(n => new[] { GemvKernel(Suffix, norm: n), GemvKernel(Suffix, attention: true, norm: n) }))
            .Select(k => (k, GemvThreads, 0))
            .Append(("attn_decode_d4", 128, 0)).Append(("attn_decode_d8", 128, 0)).Append(("norm_rows_f32", 1024, 0));
        return kernels.ToDictionary(k => k.Item1, k => Device.Resources(k.Item1, k.Item2, k.Item3));
    }

    private void SetTokenAndPosition(int token, int position)
    {
        Span<int> state = [token, position];
        Device.UploadAsync<int>(Decode.State, state);
    }

    /// <summary>One decode step for <paramref name="cache"/> (graph replay, or the same kernels launched one by one).</summary>
    private void RunStep(DeviceKvCache cache, bool withHead)
    {
        _ = Decode; // allocated before any capture: no allocation may happen while a stream is being captured
        if (!UseGraphs)
        {
            if (withHead) EnqueueStep(cache);
            else EnqueueBody(cache);
            return;
        }
        if (withHead) (cache.StepGraph ??= Device.Capture(() => EnqueueStep(cache))).Launch();
        else (cache.BodyGraph ??= Device.Capture(() => EnqueueBody(cache))).Launch();
    }

    /// <summary>Appends tokens to the device cache: prefill chunks for several, the decode step for one. Returns the last chunk's hidden rows (device).</summary>
    private ulong Append(KvCache cache, ReadOnlySpan<int> tokens, Span<float> hiddenOut, CancellationToken cancellationToken)
    {
        var device = Storage(cache, cache.Length + tokens.Length);
        int dim = Config.HiddenSize;
        if (tokens.Length == 1)
        {
            SetTokenAndPosition(tokens[0], cache.Length);
            RunStep(device, withHead: false);
            if (!hiddenOut.IsEmpty) Device.Download(hiddenOut[..dim], Decode.Hidden);
            cache.Advance(1);
            return Decode.Hidden;
        }
        ulong hidden = 0;
        for (int done = 0; done < tokens.Length;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int rows = ChunkRows(tokens.Length - done, cache.Length + tokens.Length);
            hidden = PrefillChunk(device, tokens.Slice(done, rows), cache.Length);
            if (!hiddenOut.IsEmpty) Device.Download(hiddenOut.Slice(done * dim, rows * dim), hidden);
            cache.Advance(rows);
            done += rows;
            if (done < tokens.Length) hidden = 0;
            else hidden += (ulong)((rows - 1) * dim * 4);
        }
        return hidden;
    }

    internal IGreedyDecoder GreedyDecoder(KvCache cache) => new CudaGreedyDecoder(this, cache);

    /// <summary>Prefills <paramref name="tokens"/> into the cache and waits for the device (timing prefill).</summary>
    internal void Prefill(KvCache cache, int[] tokens, CancellationToken cancellationToken)
    {
        EnqueuePrefill(cache, tokens, cancellationToken);
        Device.Synchronize();
    }

    /// <summary>Queues the prefill of <paramref name="tokens"/> into the cache.</summary>
    internal void EnqueuePrefill(KvCache cache, int[] tokens, CancellationToken cancellationToken)
    {
        Device.MakeCurrent();
        Append(cache, tokens, Span<float>.Empty, cancellationToken);
    }

    /// <summary>
    /// Prefills, then runs <paramref name="steps"/> greedy steps back to back with no host round trip (each step's
    /// argmax feeds the next in device memory); returns ms per step.
    /// </summary>
    internal double DecodeBackToBack(KvCache cache, int[] prompt, int steps)
    {
        var decoder = new CudaGreedyDecoder(this, cache);
        int token = decoder.First(prompt, 1, CancellationToken.None);
        var device = Storage(cache, cache.Length + steps);
        SetTokenAndPosition(token, cache.Length);
        Device.Synchronize();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) RunStep(device, withHead: true);
        Device.Synchronize();
        double ms = clock.Elapsed.TotalMilliseconds / steps;
        cache.Advance(steps);
        return ms;
    }

    /// <summary>C = A·B for n×n float16 matrices through cuBLAS (the card's dense GEMM rate).</summary>
    internal unsafe void Gemm16(ulong a, ulong b, ulong c, int n)
    {
        float alpha = 1f, beta = 0f;
        Cublas.Check(Cublas.cublasGemmEx(cublas, Cublas.OpN, Cublas.OpN, n, n, n, &alpha, a, Cublas.R16F, n, b, Cublas.R16F, n, &beta,
            c, Cublas.R32F, n, Cublas.Compute32F, Cublas.GemmDefault), "cublasGemmEx");
    }

    /// <summary>Prefills <paramref name="prompt"/> and queues the head and argmax over its last row (<see cref="CudaGreedyDecoder"/>).</summary>
    internal void EnqueueFirst(KvCache cache, int[] prompt, CancellationToken cancellationToken)
    {
        var b = Decode;
        ulong last = Append(cache, prompt, Span<float>.Empty, cancellationToken);
        if (last != b.Hidden) Device.CopyAsync(b.Hidden, last, Config.HiddenSize * 4L);
        SetTokenAndPosition(0, cache.Length - 1); // argmax_advance moves the position on to cache.Length
        EnqueueHead();
    }

    /// <summary>Queues the greedy step for <paramref name="token"/> at the cache's length (the caller advances the cache).</summary>
    internal void EnqueueNext(KvCache cache, int token)
    {
        var device = Storage(cache, cache.Length + 1);
        SetTokenAndPosition(token, cache.Length);
        RunStep(device, withHead: true);
    }

    /// <summary>Queues the greedy step for the token and position the last argmax left in device memory.</summary>
    internal void EnqueueQueued(DeviceKvCache cache) => RunStep(cache, withHead: true);

    /// <summary>Where each greedy step's argmax leaves its token.</summary>
    internal ulong DecodeToken => Decode.Token;

    private TokenReadback? readback;
    internal TokenReadback Readback => readback ??= new TokenReadback(Device);

    /// <summary>The greedy decoder whose step was queued last (only that one may take it), by an id that holds nothing.</summary>
    internal object? QueuedBy { get; set; }
}
