using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Kernels;

/// <summary>
/// y = x·Wᵀ (+ bias) with W [n, k] read straight from the memory-mapped checkpoint in its stored
/// dtype. Few rows of x (decoding): every weight row is widened in registers and dotted with each x
/// row, one pass over W at memory speed. Many rows (prefill, batches): blocks of W rows are widened
/// into a small per-thread float32 buffer and multiplied in 4×4 register tiles, K-blocked so both
/// tiles stay in L1. Kernels are generic over the weight loader so each dtype gets its own code.
/// </summary>
public static unsafe class MatMul
{
    private const int GemvMaxRows = 8;
    private const int GemvRowsPerTask = 64;
    /// <summary>Bytes ahead of the current weight that a decode step asks the core to fetch (measured best on Zen 5: docs/performance.md).</summary>
    private const int PrefetchDistance = 4096;
    private const int GemvTasksPerCore = 4;
    private const int BlockRows = 16;
    private const int KBlock = 1024;

    [ThreadStatic] private static float[]? blockBuffer;

    /// <summary>y[m, n] = Σ_k x[m, k]·W[n, k] + bias[n]. x is [m, k] row-major, y is [m, n].</summary>
    public static void Linear(ReadOnlySpan<float> x, int m, TensorView w, ReadOnlySpan<float> bias, Span<float> y) =>
        Linear(x, m, w, bias, y, MatMulOptions.Default);

    /// <summary>y[m, n] = Σ_k x[m, k]·W[n, k] + bias[n] with the kernels <paramref name="options"/> pick.</summary>
    public static void Linear(ReadOnlySpan<float> x, int m, TensorView w, ReadOnlySpan<float> bias, Span<float> y, MatMulOptions options)
    {
        int n = w.Rows, k = w.RowLength;
        if (x.Length < m * k) throw new ArgumentException($"x holds {x.Length} values, {m}×{k} needed for '{w.Name}'.");
        if (y.Length < m * n) throw new ArgumentException($"y holds {y.Length} values, {m}×{n} needed for '{w.Name}'.");
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"bias of {bias.Length} for {n} outputs of '{w.Name}'.");
        fixed (float* px = x, py = y, pb = bias)
            Dispatch(new Problem(px, m, k, n, w.Data, w.DType, bias.IsEmpty ? null : pb, py, w.AllHalvesFinite, options.Portable));
    }

    /// <summary>
    /// Several products of the same input at once (q/k/v, gate/up): one parallel dispatch over all of
    /// their rows, so the threads meet once instead of once per matrix.
    /// </summary>
    public static void Linear(float[] x, int m, params LinearTarget[] targets) => Linear(x, m, MatMulOptions.Default, targets);

    /// <summary>Several products of the same input at once, with the kernels <paramref name="options"/> pick.</summary>
    public static void Linear(float[] x, int m, MatMulOptions options, params LinearTarget[] targets)
    {
        var handles = new List<System.Runtime.InteropServices.GCHandle>();
        try
        {
            float* Pin(float[]? a)
            {
                if (a == null) return null;
                var h = System.Runtime.InteropServices.GCHandle.Alloc(a, System.Runtime.InteropServices.GCHandleType.Pinned);
                handles.Add(h);
                return (float*)h.AddrOfPinnedObject();
            }
            float* px = Pin(x);
            var problems = new Problem[targets.Length];
            for (int i = 0; i < targets.Length; i++)
            {
                var t = targets[i];
                int n = t.Weight.Rows, k = t.Weight.RowLength;
                if (x.Length < m * k || t.Output.Length < m * n || (t.Bias != null && t.Bias.Length != n))
                    throw new ArgumentException($"Shapes do not fit '{t.Weight.Name}' ({m}×{k} → {m}×{n}).");
                problems[i] = new Problem(px, m, k, n, t.Weight.Data, t.Weight.DType, Pin(t.Bias), Pin(t.Output), t.Weight.AllHalvesFinite, options.Portable);
            }
            var slices = new List<(int Problem, int R0, int R1)>();
            for (int i = 0; i < problems.Length; i++)
            {
                int rowsPerTask = RowsPerTask(problems[i]);
                for (int r = 0; r < problems[i].N; r += rowsPerTask)
                    slices.Add((i, r, Math.Min(problems[i].N, r + rowsPerTask)));
            }
            WorkerTeam.For(0, slices.Count, j => Run(problems[slices[j].Problem], slices[j].R0, slices[j].R1));
        }
        finally
        {
            foreach (var h in handles) h.Free();
        }
    }

    /// <summary>y = x·Wᵀ for float32 arrays (W [n, k]); used by the GEMM benchmark and tests.</summary>
    public static void Linear(ReadOnlySpan<float> x, int m, ReadOnlySpan<float> w, int n, Span<float> y)
    {
        fixed (float* px = x, pw = w, py = y)
            Dispatch(new Problem(px, m, w.Length / n, n, (byte*)pw, DType.F32, null, py));
    }

    /// <param name="finiteHalves">The F16 weights hold no infinity or NaN.</param>
    /// <param name="portable">Use the portable (TensorPrimitives) kernels even where AVX-512 is available.</param>
    private readonly struct Problem(float* x, int m, int k, int n, byte* w, DType dtype, float* bias, float* y, bool finiteHalves = false, bool portable = false)
    {
        public bool UseAvx512 { get; } = Avx512F.IsSupported && !portable;
        public bool FiniteHalves { get; } = finiteHalves;
        public float* X { get; } = x;
        public int M { get; } = m;
        public int K { get; } = k;
        public int N { get; } = n;
        public byte* W { get; } = w;
        public DType DType { get; } = dtype;
        public float* Bias { get; } = bias;
        public float* Y { get; } = y;
    }

    private static int RowsPerTask(Problem p) => p.M <= GemvMaxRows
        ? Math.Max(GemvRowsPerTask, p.N / (Environment.ProcessorCount * GemvTasksPerCore) + 1) : BlockRows;

    private static void Dispatch(Problem p)
    {
        int rowsPerTask = RowsPerTask(p);
        int tasks = (p.N + rowsPerTask - 1) / rowsPerTask;
        if (tasks == 1 || (long)p.M * p.N * p.K < 1 << 16)
            Run(p, 0, p.N);
        else
            WorkerTeam.For(0, tasks, t => Run(p, t * rowsPerTask, Math.Min(p.N, (t + 1) * rowsPerTask)));
    }

    private static void Run(Problem p, int r0, int r1)
    {
        if (!p.UseAvx512) { Portable(p, r0, r1); return; }
        switch (p.DType)
        {
            case DType.F32: Run<F32Loader>(p, r0, r1); break;
            // Finite halves take the widening with less than half of the exact one's work.
            case DType.F16 when p.FiniteHalves: Run<F16FiniteLoader>(p, r0, r1); break;
            case DType.F16: Run<F16Loader>(p, r0, r1); break;
            case DType.BF16: Run<BF16Loader>(p, r0, r1); break;
            default: throw new NotSupportedException($"Weights of dtype {p.DType} are not supported.");
        }
    }

    private static void Run<TLoad>(Problem p, int r0, int r1) where TLoad : IWeightLoader
    {
        long rowBytes = (long)p.K * p.DType.SizeOf();
        if (p.M == 1)
            Gemv1<TLoad>(p.X, p.K, p.W + r0 * rowBytes, rowBytes, r1 - r0, p.Bias == null ? null : p.Bias + r0, p.Y + r0);
        else if (p.M <= GemvMaxRows)
            GemvFew<TLoad>(p.X, p.M, p.K, p.W + r0 * rowBytes, rowBytes, r1 - r0, p.Bias == null ? null : p.Bias + r0, p.Y + r0, p.N);
        else
            for (int b = r0; b < r1; b += BlockRows) Gemm<TLoad>(p, b, Math.Min(r1, b + BlockRows));
    }

    /// <summary>Asks the core for the cache lines of weights [index, index + count) of a row, <see cref="PrefetchDistance"/> bytes ahead.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchAhead<TLoad>(byte* row, int index, int count) where TLoad : IWeightLoader
    {
        byte* next = row + (long)index * TLoad.ElementSize + PrefetchDistance;
        for (int offset = 0; offset < count * TLoad.ElementSize; offset += 64) Sse.Prefetch0(next + offset);
    }

    private static void Gemv1<TLoad>(float* x, int k, byte* w, long rowBytes, int rows, float* bias, float* y) where TLoad : IWeightLoader
    {
        int r = 0;
        for (; r < rows; r++)
        {
            byte* row = w + r * rowBytes;
            Vector512<float> a0 = default, a1 = default;
            int i = 0;
            for (; i <= k - 32; i += 32)
            {
                PrefetchAhead<TLoad>(row, i, 32);
                a0 = Avx512F.FusedMultiplyAdd(TLoad.Load16(row, i), Vector512.Load(x + i), a0);
                a1 = Avx512F.FusedMultiplyAdd(TLoad.Load16(row, i + 16), Vector512.Load(x + i + 16), a1);
            }
            float s = Vector512.Sum(a0 + a1);
            for (; i < k; i++) s += TLoad.Load1(row, i) * x[i];
            y[r] = s + (bias == null ? 0 : bias[r]);
        }
    }

    /// <summary>
    /// Up to eight x rows (small decode batches): weight rows are widened in pairs, once per 16 values, and
    /// multiplied into every x row. Beyond eight rows the blocked GEMM is as fast (docs/performance.md, batches).
    /// </summary>
    private static void GemvFew<TLoad>(float* x, int m, int k, byte* w, long rowBytes, int rows, float* bias, float* y, int ldy) where TLoad : IWeightLoader
    {
        int r = 0;
        for (; r + 1 < rows; r += 2)
        {
            byte* row = w + r * rowBytes;
            float b0 = bias == null ? 0 : bias[r], b1 = bias == null ? 0 : bias[r + 1];
            for (int g = 0; g < m; g += 8)
                RowPair8<TLoad>(row, row + rowBytes, x + (long)g * k, Math.Min(8, m - g), k, y + (long)g * ldy + r, ldy, b0, b1);
        }
        for (; r < rows; r++)
        {
            byte* row = w + r * rowBytes;
            float b = bias == null ? 0 : bias[r];
            for (int g = 0; g < m; g += 8)
                Rows8<TLoad>(row, x + (long)g * k, Math.Min(8, m - g), k, y + (long)g * ldy + r, ldy, b);
        }
    }

    /// <summary>
    /// Two adjacent weight rows against <paramref name="m"/> ≤ 8 x rows: each x load feeds two FMAs, which
    /// halves the traffic from L2 that bounds <see cref="Rows8{TLoad}"/> at batch 8. Row r goes to y[j·ldy], row r+1 to y[j·ldy + 1].
    /// </summary>
    private static void RowPair8<TLoad>(byte* row0, byte* row1, float* x, int m, int k, float* y, int ldy, float bias0, float bias1) where TLoad : IWeightLoader
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        int i = 0;
        for (; i <= k - 16; i += 16)
        {
            PrefetchAhead<TLoad>(row0, i, 16);
            PrefetchAhead<TLoad>(row1, i, 16);
            var w0 = TLoad.Load16(row0, i);
            var w1 = TLoad.Load16(row1, i);
            var xv = Vector512.Load(x + i);
            a0 = Avx512F.FusedMultiplyAdd(w0, xv, a0); b0 = Avx512F.FusedMultiplyAdd(w1, xv, b0);
            if (m > 1) { xv = Vector512.Load(x + k + i); a1 = Avx512F.FusedMultiplyAdd(w0, xv, a1); b1 = Avx512F.FusedMultiplyAdd(w1, xv, b1); }
            if (m > 2) { xv = Vector512.Load(x + 2L * k + i); a2 = Avx512F.FusedMultiplyAdd(w0, xv, a2); b2 = Avx512F.FusedMultiplyAdd(w1, xv, b2); }
            if (m > 3) { xv = Vector512.Load(x + 3L * k + i); a3 = Avx512F.FusedMultiplyAdd(w0, xv, a3); b3 = Avx512F.FusedMultiplyAdd(w1, xv, b3); }
            if (m > 4) { xv = Vector512.Load(x + 4L * k + i); a4 = Avx512F.FusedMultiplyAdd(w0, xv, a4); b4 = Avx512F.FusedMultiplyAdd(w1, xv, b4); }
            if (m > 5) { xv = Vector512.Load(x + 5L * k + i); a5 = Avx512F.FusedMultiplyAdd(w0, xv, a5); b5 = Avx512F.FusedMultiplyAdd(w1, xv, b5); }
            if (m > 6) { xv = Vector512.Load(x + 6L * k + i); a6 = Avx512F.FusedMultiplyAdd(w0, xv, a6); b6 = Avx512F.FusedMultiplyAdd(w1, xv, b6); }
            if (m > 7) { xv = Vector512.Load(x + 7L * k + i); a7 = Avx512F.FusedMultiplyAdd(w0, xv, a7); b7 = Avx512F.FusedMultiplyAdd(w1, xv, b7); }
        }
        Span<float> sums0 = stackalloc float[8], sums1 = stackalloc float[8];
        sums0[0] = Vector512.Sum(a0); sums0[1] = Vector512.Sum(a1); sums0[2] = Vector512.Sum(a2); sums0[3] = Vector512.Sum(a3);
        sums0[4] = Vector512.Sum(a4); sums0[5] = Vector512.Sum(a5); sums0[6] = Vector512.Sum(a6); sums0[7] = Vector512.Sum(a7);
        sums1[0] = Vector512.Sum(b0); sums1[1] = Vector512.Sum(b1); sums1[2] = Vector512.Sum(b2); sums1[3] = Vector512.Sum(b3);
        sums1[4] = Vector512.Sum(b4); sums1[5] = Vector512.Sum(b5); sums1[6] = Vector512.Sum(b6); sums1[7] = Vector512.Sum(b7);
        for (; i < k; i++)
        {
            float w0 = TLoad.Load1(row0, i), w1 = TLoad.Load1(row1, i);
            for (int j = 0; j < m; j++) { sums0[j] += w0 * x[(long)j * k + i]; sums1[j] += w1 * x[(long)j * k + i]; }
        }
        for (int j = 0; j < m; j++) { y[(long)j * ldy] = sums0[j] + bias0; y[(long)j * ldy + 1] = sums1[j] + bias1; }
    }

    /// <summary>Dot products of one weight row with <paramref name="m"/> ≤ 8 x rows, written to y[j·ldy].</summary>
    private static void Rows8<TLoad>(byte* row, float* x, int m, int k, float* y, int ldy, float bias) where TLoad : IWeightLoader
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        int i = 0;
        for (; i <= k - 16; i += 16)
        {
            PrefetchAhead<TLoad>(row, i, 16);
            var wv = TLoad.Load16(row, i);
            a0 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + i), a0);
            if (m > 1) a1 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + k + i), a1);
            if (m > 2) a2 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + 2L * k + i), a2);
            if (m > 3) a3 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + 3L * k + i), a3);
            if (m > 4) a4 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + 4L * k + i), a4);
            if (m > 5) a5 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + 5L * k + i), a5);
            if (m > 6) a6 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + 6L * k + i), a6);
            if (m > 7) a7 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + 7L * k + i), a7);
        }
        Span<float> sums = stackalloc float[8];
        sums[0] = Vector512.Sum(a0); sums[1] = Vector512.Sum(a1); sums[2] = Vector512.Sum(a2); sums[3] = Vector512.Sum(a3);
        sums[4] = Vector512.Sum(a4); sums[5] = Vector512.Sum(a5); sums[6] = Vector512.Sum(a6); sums[7] = Vector512.Sum(a7);
        for (; i < k; i++)
        {
            float wv = TLoad.Load1(row, i);
            for (int j = 0; j < m; j++) sums[j] += wv * x[(long)j * k + i];
        }
        for (int j = 0; j < m; j++) y[(long)j * ldy] = sums[j] + bias;
    }

    /// <summary>A K-blocked GEMM over weight rows [r0, r1): tiles of 4 x rows × 4 weight rows.</summary>
    private static void Gemm<TLoad>(Problem p, int r0, int r1) where TLoad : IWeightLoader
    {
        int rows = r1 - r0, k = p.K, m = p.M, n = p.N;
        long rowBytes = (long)k * TLoad.ElementSize;
        float[]? buffer = null;
        if (p.DType != DType.F32)
        {
            buffer = EnsureBuffer(rows * k);
            fixed (float* pb = buffer)
                for (int r = 0; r < rows; r++)
                {
                    byte* row = p.W + (r0 + r) * rowBytes;
                    float* dst = pb + (long)r * k;
                    int i = 0;
                    for (; i <= k - 16; i += 16) TLoad.Load16(row, i).Store(dst + i);
                    for (; i < k; i++) dst[i] = TLoad.Load1(row, i);
                }
        }
        fixed (float* pbuf = buffer)
        {
            float* wf = buffer != null ? pbuf : (float*)(p.W + r0 * rowBytes);
            float* x = p.X, y = p.Y;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < rows; j++)
                    y[(long)i * n + r0 + j] = p.Bias == null ? 0 : p.Bias[r0 + j];
            for (int k0 = 0; k0 < k; k0 += KBlock)
            {
                int kc = Math.Min(KBlock, k - k0);
                int i = 0;
                for (; i <= m - 4; i += 4)
                {
                    int j = 0;
                    for (; j <= rows - 4; j += 4)
                        Tile4x4(x + (long)i * k + k0, wf + (long)j * k + k0, k, kc, y + (long)i * n + r0 + j, n);
                    for (; j < rows; j++)
                        for (int ii = 0; ii < 4; ii++)
                            y[(long)(i + ii) * n + r0 + j] += Dot(x + (long)(i + ii) * k + k0, wf + (long)j * k + k0, kc);
                }
                for (; i < m; i++)
                    for (int j = 0; j < rows; j++)
                        y[(long)i * n + r0 + j] += Dot(x + (long)i * k + k0, wf + (long)j * k + k0, kc);
            }
        }
    }

    private static void Portable(Problem p, int r0, int r1)
    {
        var row = EnsureBuffer(p.K);
        int size = p.DType.SizeOf();
        for (int r = r0; r < r1; r++)
        {
            NumericConvert.ToFloat(p.DType, new ReadOnlySpan<byte>(p.W + (long)r * p.K * size, p.K * size), row);
            for (int i = 0; i < p.M; i++)
                p.Y[(long)i * p.N + r] = Dot(p.X + (long)i * p.K, (float*)Unsafe.AsPointer(ref row[0]), p.K) + (p.Bias == null ? 0 : p.Bias[r]);
        }
    }

    private static float[] EnsureBuffer(int length)
    {
        var b = blockBuffer;
        if (b == null || b.Length < length) blockBuffer = b = GC.AllocateUninitializedArray<float>(Math.Max(length, 4096), pinned: true);
        return b;
    }

    private static float Dot(float* a, float* b, int len) =>
        TensorPrimitives.Dot(new ReadOnlySpan<float>(a, len), new ReadOnlySpan<float>(b, len));

    /// <summary>Adds the 16 dot products of x rows a..a+3 with weight rows b..b+3 over kc elements to y.</summary>
    private static void Tile4x4(float* a, float* b, int stride, int kc, float* y, int ldy)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* a1p = a + stride, a2p = a + 2 * stride, a3p = a + 3 * stride;
        float* b1p = b + stride, b2p = b + 2 * stride, b3p = b + 3 * stride;
        int kk = 0;
        for (; kk <= kc - 16; kk += 16)
        {
            var b0 = Vector512.Load(b + kk);
            var b1 = Vector512.Load(b1p + kk);
            var b2 = Vector512.Load(b2p + kk);
            var b3 = Vector512.Load(b3p + kk);
            var a0 = Vector512.Load(a + kk);
            c00 = Avx512F.FusedMultiplyAdd(a0, b0, c00); c01 = Avx512F.FusedMultiplyAdd(a0, b1, c01);
            c02 = Avx512F.FusedMultiplyAdd(a0, b2, c02); c03 = Avx512F.FusedMultiplyAdd(a0, b3, c03);
            var a1 = Vector512.Load(a1p + kk);
            c10 = Avx512F.FusedMultiplyAdd(a1, b0, c10); c11 = Avx512F.FusedMultiplyAdd(a1, b1, c11);
            c12 = Avx512F.FusedMultiplyAdd(a1, b2, c12); c13 = Avx512F.FusedMultiplyAdd(a1, b3, c13);
            var a2 = Vector512.Load(a2p + kk);
            c20 = Avx512F.FusedMultiplyAdd(a2, b0, c20); c21 = Avx512F.FusedMultiplyAdd(a2, b1, c21);
            c22 = Avx512F.FusedMultiplyAdd(a2, b2, c22); c23 = Avx512F.FusedMultiplyAdd(a2, b3, c23);
            var a3 = Vector512.Load(a3p + kk);
            c30 = Avx512F.FusedMultiplyAdd(a3, b0, c30); c31 = Avx512F.FusedMultiplyAdd(a3, b1, c31);
            c32 = Avx512F.FusedMultiplyAdd(a3, b2, c32); c33 = Avx512F.FusedMultiplyAdd(a3, b3, c33);
        }
        y[0] += Vector512.Sum(c00); y[1] += Vector512.Sum(c01); y[2] += Vector512.Sum(c02); y[3] += Vector512.Sum(c03);
        y[ldy] += Vector512.Sum(c10); y[ldy + 1] += Vector512.Sum(c11); y[ldy + 2] += Vector512.Sum(c12); y[ldy + 3] += Vector512.Sum(c13);
        y[2 * ldy] += Vector512.Sum(c20); y[2 * ldy + 1] += Vector512.Sum(c21); y[2 * ldy + 2] += Vector512.Sum(c22); y[2 * ldy + 3] += Vector512.Sum(c23);
        y[3 * ldy] += Vector512.Sum(c30); y[3 * ldy + 1] += Vector512.Sum(c31); y[3 * ldy + 2] += Vector512.Sum(c32); y[3 * ldy + 3] += Vector512.Sum(c33);
        for (; kk < kc; kk++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    y[i * ldy + j] += a[i * stride + kk] * b[j * stride + kk];
    }
}

/// <summary>Which matrix-multiply kernels run: an instance switch, so a test comparing paths never flips global state.</summary>
/// <param name="Portable">Use the portable (TensorPrimitives) kernels even where AVX-512 is available.</param>
public sealed record MatMulOptions(bool Portable = false)
{
    public static MatMulOptions Default { get; } = new();
}
