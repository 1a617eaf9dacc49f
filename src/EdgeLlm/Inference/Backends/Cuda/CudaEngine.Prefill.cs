using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>Prefill on the device: many tokens of one sequence per chunk, through cuBLAS GEMMs (the decode step is in CudaForward.cs).</summary>
public sealed partial class CudaEngine
{
    /// <summary>Rows of one prefill chunk: at most 2048, and S = heads × rows × keys within 2^28 floats.</summary>
    private int ChunkRows(int remaining, int keys) =>
        Math.Max(1, Math.Min(Math.Min(remaining, Profiling.CudaMemoryModel.FusedChunkRows), (int)Math.Min(int.MaxValue, (1L << 28) / ((long)MaxHeads * Math.Max(keys, 1)))));

    /// <summary>
    /// The dtype the prefill path hands its GEMMs: the weights' own (float16, float32), or float32 for bfloat16
    /// weights, whose GEMMs split it into two bfloat16 parts (see <see cref="Linear"/>).
    /// </summary>
    private string ActSuffix => WeightDType == DType.BF16 ? "f32" : Suffix;
    private int ActSize => WeightDType == DType.BF16 ? 4 : ElementSize;

    /// <summary>
    /// Y [rows, n] (float32) = X [rows, k] · Wᵀ, added into Y when <paramref name="accumulate"/>; X in <see cref="ActSuffix"/>.
    /// For bfloat16 weights X (float32) is split into hi + lo bfloat16 parts and multiplied twice: a single bfloat16
    /// rounding of the activations (8 bits) moved logits by 0.2 on the fixtures and changed a greedy token.
    /// </summary>
    private unsafe void Linear(ulong w, int n, int k, ulong x, int rows, ulong y, bool accumulate)
    {
        float alpha = 1f, beta = accumulate ? 1f : 0f, one = 1f;
        int t = CublasType;
        if (WeightDType != DType.BF16)
        {
            Cublas.Check(Cublas.cublasGemmEx(cublas, Cublas.OpT, Cublas.OpN, n, rows, k, &alpha, w, t, k, x, t, k, &beta, y, Cublas.R32F, n,
                Cublas.Compute32F, Cublas.GemmDefault), "cublasGemmEx");
            return;
        }
        long count = (long)rows * k;
        ulong hi = Scratch("p.split.hi", count * 2), lo = Scratch("p.split.lo", count * 2);
        Device.Launch("split_bf16", Blocks(count), 1, 256, 0, args.Reset().Ptr(x).Ptr(hi).Ptr(lo).Long(count));
        Cublas.Check(Cublas.cublasGemmEx(cublas, Cublas.OpT, Cublas.OpN, n, rows, k, &alpha, w, t, k, hi, t, k, &beta, y, Cublas.R32F, n,
            Cublas.Compute32F, Cublas.GemmDefault), "cublasGemmEx");
        Cublas.Check(Cublas.cublasGemmEx(cublas, Cublas.OpT, Cublas.OpN, n, rows, k, &alpha, w, t, k, lo, t, k, &one, y, Cublas.R32F, n,
            Cublas.Compute32F, Cublas.GemmDefault), "cublasGemmEx");
    }

    private void AddBias(ulong x, ulong bias, int rows, int n)
    {
        if (bias == 0) return;
        Device.Launch("add_bias_rows", Blocks((long)rows * n), 1, 256, 0, args.Reset().Ptr(x).Ptr(bias).Int(rows).Int(n));
    }

    private void NormRows(ulong x, ulong w, ulong b, ulong output, int rows, string suffix) =>
        Device.Launch("norm_rows_" + suffix, rows, 1, 256, 0, args.Reset().Ptr(x).Ptr(w).Ptr(b).Ptr(output).Int(Config.HiddenSize).Int(NormMode).Float(Eps));

    /// <summary>Runs <paramref name="tokens"/> at positions start… through every block; leaves the final-normed hidden rows in "hidden".</summary>
    private unsafe ulong PrefillChunk(DeviceKvCache cache, ReadOnlySpan<int> tokens, int start)
    {
        var c = Config;
        int rows = tokens.Length, dim = c.HiddenSize, hd = c.HeadDim, keys = start + rows, es = ActSize;
        int maxF = layers.Max(l => l.Intermediate), maxQ = MaxHeads * hd;
        int maxFused = layers.Max(l => Math.Max(l.FusedRows, Style == BlockStyle.Sequential ? 2 * l.Intermediate : 0));
        ulong ids = Scratch("p.tokens", rows * 4L);
        Device.UploadAsync(ids, tokens);
        ulong x = Scratch("p.x", (long)rows * dim * 4);
        ulong xn = Scratch("p.xn", (long)rows * Math.Max(dim, maxQ) * es);
        ulong y = Scratch("p.y", (long)rows * maxFused * 4);
        ulong ff = Scratch("p.ff", (long)rows * maxF * es);
        ulong qh = Scratch("p.qheads", (long)rows * maxQ * 2);
        ulong s = Scratch("p.scores", (long)MaxHeads * rows * keys * 4);
        ulong p = Scratch("p.probs", (long)MaxHeads * rows * keys * 2);
        ulong o = Scratch("p.out", (long)rows * maxQ * 4);
        ulong hidden = Scratch("p.hidden", (long)rows * dim * 4);
        Device.Launch("be_embed_" + Suffix, rows, 1, 256, 0, args.Reset().Ptr(embedding).Ptr(ids).Ptr(x).Int(dim));
        for (int l = 0; l < layers.Length; l++)
        {
            var w = layers[l];
            int nq = w.QRows(hd), nkv = w.KvWidth(hd), groups = w.Heads / w.KvHeads, m = groups * rows;
            NormRows(x, w.Norm1, w.Norm1Bias, xn, rows, ActSuffix);
            Linear(w.Fused, w.FusedRows, dim, xn, rows, y, accumulate: false);
            Device.Launch("fused_rows_" + ActSuffix, Blocks((long)rows * w.FusedRows / 2), 1, 256, 0, args.Reset().Ptr(y).Ptr(w.FusedBias)
                .Int(rows).Int(w.FusedRows).Int(nq).Int(nkv).Int(hd).Int(RotaryDim).Ptr(invFreq).Int(start).Ptr(qh)
                .Ptr(cache.LayerKeys(l)).Ptr(cache.LayerValues(l)).Int(nkv).Ptr(ff).Int(Style == BlockStyle.Parallel ? ActGelu : ActNone));
            // S[kvh] (row-major [groups·rows, keys]) = scale · Q[kvh] · K[kvh]ᵀ, batched over key/value heads.
            float scale = 1f / MathF.Sqrt(hd), zero = 0f, one = 1f;
            Cublas.Check(Cublas.cublasGemmStridedBatchedEx(cublas, Cublas.OpT, Cublas.OpN, keys, m, hd, &scale,
                cache.LayerKeys(l), Cublas.R16F, nkv, hd, qh, Cublas.R16F, hd, (long)m * hd, &zero,
                s, Cublas.R32F, keys, (long)m * keys, w.KvHeads, Cublas.Compute32F, Cublas.GemmDefault), "cublasGemmStridedBatchedEx (scores)");
            Device.Launch("attn_softmax_rows", w.KvHeads * m, 1, 256, 0, args.Reset().Ptr(s).Ptr(p).Int(rows).Int(keys).Int(start).Int(0));
            Cublas.Check(Cublas.cublasGemmStridedBatchedEx(cublas, Cublas.OpN, Cublas.OpN, hd, m, keys, &one,
                cache.LayerValues(l), Cublas.R16F, nkv, hd, p, Cublas.R16F, keys, (long)m * keys, &zero,
                o, Cublas.R32F, hd, (long)m * hd, w.KvHeads, Cublas.Compute32F, Cublas.GemmDefault), "cublasGemmStridedBatchedEx (values)");
            Device.Launch("attn_gather_" + ActSuffix, Blocks((long)rows * nq), 1, 256, 0, args.Reset().Ptr(o).Ptr(xn).Int(w.Heads).Int(rows).Int(hd));
            Linear(w.Out, dim, nq, xn, rows, x, accumulate: true);
            AddBias(x, w.OutBias, rows, dim);
            if (Style == BlockStyle.Sequential)
            {
                NormRows(x, w.Norm2, 0, xn, rows, ActSuffix);
                Linear(w.GateUp, 2 * w.Intermediate, dim, xn, rows, y, accumulate: false);
                Device.Launch("fused_rows_" + ActSuffix, Blocks((long)rows * w.Intermediate), 1, 256, 0, args.Reset().Ptr(y).Ptr(w.GateUpBias)
                    .Int(rows).Int(2 * w.Intermediate).Int(0).Int(0).Int(hd).Int(RotaryDim).Ptr(invFreq).Int(start).Ptr(qh)
                    .Ptr(cache.LayerKeys(l)).Ptr(cache.LayerValues(l)).Int(nkv).Ptr(ff).Int(ActSilu));
            }
            Linear(w.Down, dim, w.Intermediate, ff, rows, x, accumulate: true);
            AddBias(x, w.DownBias, rows, dim);
        }
        NormRows(x, finalNorm, finalNormBias, hidden, rows, "f32");
        return hidden;
    }
}
