using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Kernels;

/// <summary>
/// y = x·Wᵀ (+ bias) with W [n, k] read straight from the memory-mapped checkpoint in its stored
/// dtype. Few rows of x (decoding): each weight row is converted in registers and dotted with every
/// x row (memory-bound, one pass over W). Many rows (prefill, batches): blocks of W rows are
/// converted into a small per-thread float32 buffer and multiplied in 4×4 register tiles, K-blocked
/// so that both tiles stay in L1.
/// </summary>
public static unsafe class MatMul
{
    private const int GemvMaxRows = 4;
    private const int TileRows = 4;
    private const int BlockRows = 16;
    private const int KBlock = 1024;

    /// <summary>Forces the portable (TensorPrimitives) path; tests use it to check both paths agree.</summary>
    internal static bool ForcePortable { get; set; }

    [ThreadStatic] private static float[]? blockBuffer;

    private static bool UseAvx512 => Vector512.IsHardwareAccelerated && !ForcePortable;

    /// <summary>y[m, n] = Σ_k x[m, k]·W[n, k] + bias[n]. x is [m, k] row-major, y is [m, n].</summary>
    public static void Linear(ReadOnlySpan<float> x, int m, TensorView w, ReadOnlySpan<float> bias, Span<float> y)
    {
        int n = w.Rows, k = w.RowLength;
        if (x.Length < m * k) throw new ArgumentException($"x holds {x.Length} values, {m}×{k} needed for '{w.Name}'.");
        if (y.Length < m * n) throw new ArgumentException($"y holds {y.Length} values, {m}×{n} needed for '{w.Name}'.");
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"bias of {bias.Length} for {n} outputs of '{w.Name}'.");
        fixed (float* px = x, py = y, pb = bias)
        {
            var job = new Job(px, m, k, n, w.Data, w.DType, bias.IsEmpty ? null : pb, py);
            int rowsPerTask = m <= GemvMaxRows ? 64 : BlockRows;
            int tasks = (n + rowsPerTask - 1) / rowsPerTask;
            if (tasks == 1 || (long)m * n * k < 1 << 16)
                for (int t = 0; t < tasks; t++) job.Run(t * rowsPerTask, Math.Min(n, (t + 1) * rowsPerTask));
            else
                Parallel.For(0, tasks, t => job.Run(t * rowsPerTask, Math.Min(n, (t + 1) * rowsPerTask)));
        }
    }

    /// <summary>y = x·Wᵀ for float32 arrays (W [n, k]); used by the GEMM benchmark and tests.</summary>
    public static void Linear(ReadOnlySpan<float> x, int m, ReadOnlySpan<float> w, int n, Span<float> y)
    {
        int k = w.Length / n;
        fixed (float* px = x, pw = w, py = y)
        {
            var job = new Job(px, m, k, n, (byte*)pw, DType.F32, null, py);
            int rowsPerTask = m <= GemvMaxRows ? 64 : BlockRows;
            int tasks = (n + rowsPerTask - 1) / rowsPerTask;
            Parallel.For(0, tasks, t => job.Run(t * rowsPerTask, Math.Min(n, (t + 1) * rowsPerTask)));
        }
    }

    private readonly struct Job(float* x, int m, int k, int n, byte* w, DType dtype, float* bias, float* y)
    {
        public void Run(int r0, int r1)
        {
            if (!UseAvx512) { Portable(r0, r1); return; }
            if (m <= GemvMaxRows) { Gemv(r0, r1); return; }
            for (int b = r0; b < r1; b += BlockRows) Gemm(b, Math.Min(r1, b + BlockRows));
        }

        private float* Row(int r) => (float*)(w + (long)r * k * dtype.SizeOf());

        private void Portable(int r0, int r1)
        {
            var row = EnsureBuffer(k);
            for (int r = r0; r < r1; r++)
            {
                NumericConvert.ToFloat(dtype, new ReadOnlySpan<byte>(w + (long)r * k * dtype.SizeOf(), k * dtype.SizeOf()), row);
                for (int i = 0; i < m; i++)
                    y[(long)i * n + r] = TensorPrimitives.Dot(new ReadOnlySpan<float>(x + (long)i * k, k), row.AsSpan(0, k)) + (bias == null ? 0 : bias[r]);
            }
        }

        private void Gemv(int r0, int r1)
        {
            for (int r = r0; r < r1; r++)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                int kk = 0;
                byte* row = w + (long)r * k * dtype.SizeOf();
                for (; kk <= k - 16; kk += 16)
                {
                    var wv = Load16(row, kk);
                    a0 = Vector512.FusedMultiplyAdd(wv, Vector512.Load(x + kk), a0);
                    if (m > 1) a1 = Vector512.FusedMultiplyAdd(wv, Vector512.Load(x + k + kk), a1);
                    if (m > 2) a2 = Vector512.FusedMultiplyAdd(wv, Vector512.Load(x + 2 * k + kk), a2);
                    if (m > 3) a3 = Vector512.FusedMultiplyAdd(wv, Vector512.Load(x + 3 * k + kk), a3);
                }
                float s0 = Vector512.Sum(a0), s1 = Vector512.Sum(a1), s2 = Vector512.Sum(a2), s3 = Vector512.Sum(a3);
                for (; kk < k; kk++)
                {
                    float wv = LoadScalar(row, kk);
                    s0 += wv * x[kk];
                    if (m > 1) s1 += wv * x[k + kk];
                    if (m > 2) s2 += wv * x[2 * k + kk];
                    if (m > 3) s3 += wv * x[3 * k + kk];
                }
                float bv = bias == null ? 0 : bias[r];
                y[r] = s0 + bv;
                if (m > 1) y[n + r] = s1 + bv;
                if (m > 2) y[2 * n + r] = s2 + bv;
                if (m > 3) y[3 * n + r] = s3 + bv;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector512<float> Load16(byte* row, int kk) => dtype switch
        {
            DType.F32 => Vector512.Load((float*)row + kk),
            DType.BF16 => (Vector512.WidenLower(Vector256.Load((ushort*)row + kk).ToVector512()) << 16).AsSingle(),
            _ => HalfToSingle(Vector512.WidenLower(Vector256.Load((ushort*)row + kk).ToVector512())),
        };

        private float LoadScalar(byte* row, int kk) => dtype switch
        {
            DType.F32 => ((float*)row)[kk],
            DType.BF16 => BitConverter.UInt32BitsToSingle((uint)((ushort*)row)[kk] << 16),
            _ => (float)BitConverter.UInt16BitsToHalf(((ushort*)row)[kk]),
        };

        /// <summary>A K-blocked GEMM over weight rows [r0, r1): tiles of 4 x rows × 4 weight rows.</summary>
        private void Gemm(int r0, int r1)
        {
            int rows = r1 - r0;
            float* wf;
            float[]? buffer = null;
            if (dtype == DType.F32) wf = Row(r0);
            else
            {
                buffer = EnsureBuffer(rows * k);
                NumericConvert.ToFloat(dtype, new ReadOnlySpan<byte>(w + (long)r0 * k * dtype.SizeOf(), rows * k * dtype.SizeOf()), buffer);
                wf = null;
            }
            fixed (float* pbuf = buffer)
            {
                if (buffer != null) wf = pbuf;
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < rows; j++)
                        y[(long)i * n + r0 + j] = bias == null ? 0 : bias[r0 + j];
                for (int k0 = 0; k0 < k; k0 += KBlock)
                {
                    int kc = Math.Min(KBlock, k - k0);
                    int i = 0;
                    for (; i <= m - TileRows; i += TileRows)
                    {
                        int j = 0;
                        for (; j <= rows - TileRows; j += TileRows)
                            Tile4x4(x + (long)i * k + k0, wf + (long)j * k + k0, k, kc, y + (long)i * n + r0 + j, n);
                        for (; j < rows; j++)
                            for (int ii = 0; ii < TileRows; ii++)
                                y[(long)(i + ii) * n + r0 + j] += Dot(x + (long)(i + ii) * k + k0, wf + (long)j * k + k0, kc);
                    }
                    for (; i < m; i++)
                        for (int j = 0; j < rows; j++)
                            y[(long)i * n + r0 + j] += Dot(x + (long)i * k + k0, wf + (long)j * k + k0, kc);
                }
            }
        }
    }

    private static float[] EnsureBuffer(int length)
    {
        var b = blockBuffer;
        if (b == null || b.Length < length) blockBuffer = b = new float[Math.Max(length, 4096)];
        return b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> HalfToSingle(Vector512<uint> h) =>
        NumericConvert.Convert512(h, Vector512.Create(0x77800000u).AsSingle(), Vector512.Create(0x7C00u << 13),
            Vector512.Create(0x7FFFu << 13), Vector512.Create(0x7F800000u));

    private static float Dot(float* a, float* b, int len) =>
        TensorPrimitives.Dot(new ReadOnlySpan<float>(a, len), new ReadOnlySpan<float>(b, len));

    /// <summary>Adds the 16 dot products of x rows a..a+3 with weight rows b..b+3 over kc elements to y.</summary>
    private static void Tile4x4(float* a, float* b, int stride, int kc, float* y, int ldy)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        int kk = 0;
        for (; kk <= kc - 16; kk += 16)
        {
            var b0 = Vector512.Load(b + kk);
            var b1 = Vector512.Load(b + stride + kk);
            var b2 = Vector512.Load(b + 2 * stride + kk);
            var b3 = Vector512.Load(b + 3 * stride + kk);
            var a0 = Vector512.Load(a + kk);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            c02 = Vector512.FusedMultiplyAdd(a0, b2, c02); c03 = Vector512.FusedMultiplyAdd(a0, b3, c03);
            var a1 = Vector512.Load(a + stride + kk);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            c12 = Vector512.FusedMultiplyAdd(a1, b2, c12); c13 = Vector512.FusedMultiplyAdd(a1, b3, c13);
            var a2 = Vector512.Load(a + 2 * stride + kk);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            c22 = Vector512.FusedMultiplyAdd(a2, b2, c22); c23 = Vector512.FusedMultiplyAdd(a2, b3, c23);
            var a3 = Vector512.Load(a + 3 * stride + kk);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            c32 = Vector512.FusedMultiplyAdd(a3, b2, c32); c33 = Vector512.FusedMultiplyAdd(a3, b3, c33);
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
