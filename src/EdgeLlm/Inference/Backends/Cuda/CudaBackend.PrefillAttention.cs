namespace EdgeLlm.Inference.Backends.Cuda;

public sealed partial class CudaBackend
{
    /// <summary>A segment of several rows (a prompt chunk), attended through cuBLAS: its rows, its segment index, its first position.</summary>
    private readonly record struct PrefillSegment(int Segment, int First, int Count, int Start);

    private readonly List<PrefillSegment> prefillSegments = [];

    /// <summary>
    /// Prompt chunks attend through cuBLAS on the tensor cores (default): the keys and values are gathered out of the
    /// blocks into float16, scores and outputs are batched GEMMs over the KV heads with float32 accumulation, the softmax
    /// is float32 and its probabilities float16 (as the fused engine's prefill). False (EDGELLM_CUDA_PREFILL_ATTENTION=tiled
    /// at start) sends them through be_paged_attention, the scalar tiled kernel, for the A/B. Models with float32 matrices
    /// always take the tiled kernel (<see cref="GemmPrefillAttention"/>).
    /// </summary>
    public bool UseGemmPrefillAttention { get; set; } = Environment.GetEnvironmentVariable("EDGELLM_CUDA_PREFILL_ATTENTION") != "tiled";

    /// <summary>
    /// Whether prompt chunks go through cuBLAS now: <see cref="UseGemmPrefillAttention"/>, and every matrix 16-bit. A float32
    /// model's attention stays float32 (the tiled kernel): rounding its queries to float16 would turn the float32 GEMMs'
    /// last-bit differences between step shapes into float16 ones (1.5e-3 on the llama-float32 fixture's logits).
    /// </summary>
    internal bool GemmPrefillAttention => UseGemmPrefillAttention && !float32Matrices;

    private bool float32Matrices;

    /// <summary>For the self-test: this many scores at most per GEMM instead of <see cref="Profiling.CudaMemoryModel.PrefillScoreFloats"/>, to make the rows go in several parts.</summary>
    internal long? PrefillScoreFloatsOverride { get; set; }

    /// <summary>
    /// One prompt chunk's attention: positions 0 … Start + Count − 1 of its keys and values (float16, [keys][kv_width]);
    /// its rows taken as many at a time as keep heads × rows × keys within <see cref="Profiling.CudaMemoryModel.PrefillScoreFloats"/>
    /// (one at a time when even one row's scores exceed it, the buffers then sized for that row).
    /// </summary>
    private unsafe void PrefillAttention(PrefillSegment seg, Activation q, Activation output, AttentionShape shape, int offset, int kvWidth)
    {
        int hd = shape.HeadDim, heads = shape.Heads, kvHeads = shape.KvHeads, groups = heads / kvHeads;
        int keysAll = seg.Start + seg.Count;
        // One row's scores over every key must fit even past the budget (heads · keys > 2^23: contexts of hundreds of thousands).
        long capacity = Math.Max(Profiling.CudaMemoryModel.PrefillScoreFloats, (long)heads * keysAll);
        ulong k16 = Buffer("prefill.k", (long)keysAll * kvWidth * 2), v16 = Buffer("prefill.v", (long)keysAll * kvWidth * 2);
        ulong q16 = Buffer("prefill.q", (long)step.Rows * heads * hd * 2), o = Buffer("prefill.o", (long)step.Rows * heads * hd * 4);
        ulong s = Buffer("prefill.scores", capacity * 4), p = Buffer("prefill.probs", capacity * 2);
        Launch("be_gather_kv", Blocks((long)keysAll * kvWidth), 1, 256, 0, args.Reset().Struct(stepTable).Int(seg.Segment).Int(keysAll)
            .Int(offset).Int(kvWidth).Ptr(k16).Ptr(v16));
        long budget = Math.Min(Profiling.CudaMemoryModel.PrefillScoreFloats, PrefillScoreFloatsOverride ?? long.MaxValue);
        int per = (int)Math.Clamp(budget / ((long)heads * keysAll), 1, seg.Count);
        float scale = shape.Scale, zero = 0f, one = 1f;
        for (int r0 = 0; r0 < seg.Count; r0 += per)
        {
            int n = Math.Min(per, seg.Count - r0), keys = seg.Start + r0 + n, m = groups * n;
            long values = (long)heads * n * hd;
            Launch("be_prefill_q", Blocks(values), 1, 256, 0, args.Reset().Ptr(Ptr(q)).Int(q.Width).Int(seg.First + r0).Int(n).Int(heads).Int(hd).Ptr(q16));
            var started = BeginTiming();
            // S[kvh] (row-major [groups·n, keys]) = scale · Q[kvh] · K[kvh]ᵀ; K[kvh] is columns kvh·hd … of the gathered keys.
            Cublas.Check(Cublas.cublasGemmStridedBatchedEx(cublas, Cublas.OpT, Cublas.OpN, keys, m, hd, &scale,
                k16, Cublas.R16F, kvWidth, hd, q16, Cublas.R16F, hd, (long)m * hd, &zero,
                s, Cublas.R32F, keys, (long)m * keys, kvHeads, Cublas.Compute32F, Cublas.GemmDefault), "cublasGemmStridedBatchedEx (prefill scores)");
            EndTiming("cublasGemmStridedBatchedEx", started);
            Launch("attn_softmax_rows", heads * n, 1, 256, 0, args.Reset().Ptr(s).Ptr(p).Int(n).Int(keys).Int(seg.Start + r0).Int(shape.SlidingWindow));
            started = BeginTiming();
            Cublas.Check(Cublas.cublasGemmStridedBatchedEx(cublas, Cublas.OpN, Cublas.OpN, hd, m, keys, &one,
                v16, Cublas.R16F, kvWidth, hd, p, Cublas.R16F, keys, (long)m * keys, &zero,
                o, Cublas.R32F, hd, (long)m * hd, kvHeads, Cublas.Compute32F, Cublas.GemmDefault), "cublasGemmStridedBatchedEx (prefill values)");
            EndTiming("cublasGemmStridedBatchedEx", started);
            Launch("be_prefill_out", Blocks(values), 1, 256, 0, args.Reset().Ptr(o).Int(n).Int(heads).Int(hd).Ptr(Ptr(output)).Int(output.Width).Int(seg.First + r0));
        }
    }
}
