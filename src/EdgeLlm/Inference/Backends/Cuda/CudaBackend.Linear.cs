using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Backends.Cuda;

public sealed partial class CudaBackend
{
    /// <summary>
    /// A target whose device rows are plain (consecutive, or every other row of two interleaved matrices) is one product
    /// straight into its output, then its bias; the rest of the targets that read one engine buffer (q and k, whose rows
    /// the engine permuted into rotary pairs) are one product over the device rows that cover them, then each target's
    /// columns are gathered (undoing the engine's row order) with its bias. One row keeps interleaved targets in the
    /// covering product too: the matrix-vector kernel reads consecutive rows only.
    /// </summary>
    public void Linear(Activation input, IReadOnlyList<LinearOutput> targets)
    {
        int rows = step.Rows;
        if (rows == 0) return;
        converted = default; // the input's 16-bit copy serves every product of this call, none after it
        foreach (var group in targets.GroupBy(t => Dev(t.Weight).Buffer))
        {
            var covered = new List<LinearOutput>();
            foreach (var t in group)
            {
                var m = Dev(t.Weight);
                if (!m.Plain || (m.Stride != 1 && rows == 1)) { covered.Add(t); continue; }
                Project(m, m.Lo, m.Rows, m.Stride, Ptr(input), input.Width, rows, Ptr(t.Output), t.Output.Width);
                if (t.Bias != null) AddBias(Ptr(t.Output), t.Output.Width, Ptr(t.Bias), rows, m.Rows);
            }
            if (covered.Count == 0) continue;
            var first = Dev(covered[0].Weight);
            int lo = covered.Min(t => Dev(t.Weight).Lo), hi = covered.Max(t => Dev(t.Weight).Hi), n = hi - lo + 1;
            ulong tmp = Buffer("linear.covering", (long)rows * n * 4);
            Project(first, lo, n, 1, Ptr(input), input.Width, rows, tmp, n);
            foreach (var t in covered)
            {
                var m = Dev(t.Weight);
                if (m.Map == 0) throw new InvalidOperationException($"'{m.Name}' shares a device buffer but has no row map.");
                Launch("be_gather_columns", Blocks((long)rows * m.Rows), 1, 256, 0, args.Reset().Ptr(tmp).Int(n).Ptr(m.Map).Int(lo)
                    .Ptr(Ptr(t.Bias)).Ptr(Ptr(t.Output)).Int(t.Output.Width).Int(rows).Int(m.Rows));
            }
        }
    }

    /// <summary>The input whose 16-bit copy sits in the conversion buffers now (within one <see cref="Linear"/> call).</summary>
    private (ulong X, int Ld, int Rows, int K, DType Type) converted;

    private void AddBias(ulong y, int ld, ulong bias, int rows, int n) =>
        Launch("be_add_bias", Blocks((long)rows * n), 1, 256, 0, args.Reset().Ptr(y).Int(ld).Ptr(bias).Int(rows).Int(n));

    /// <summary>
    /// Y[r, 0..n) = X[r, 0..k) · Wᵀ for n device rows of <paramref name="m"/>'s buffer from row <paramref name="firstRow"/>,
    /// <paramref name="stride"/> rows apart (2: one of two interleaved matrices), float32 accumulation. One row: the
    /// matrix-vector kernel over float32 input; more: a cuBLAS GEMM over 16-bit operands (float16 weights: the input
    /// rounded to float16; bfloat16: split into two bfloat16 parts and multiplied twice, as the engine's prefill does).
    /// </summary>
    private unsafe void Project(CudaMatrix m, int firstRow, int n, int stride, ulong x, int ldx, int rows, ulong y, int ldy)
    {
        int k = m.Columns, es = m.DType.SizeOf();
        ulong w = m.Buffer + (ulong)(firstRow * m.RowBytes);
        string suffix = m.DType switch { DType.F16 => "f16", DType.BF16 => "bf16", _ => "f32" };
        if (rows == 1 && stride == 1)
        {
            var a = new GemvArgs { W = w, X = x, Y = y, N = n, K = k, Mode = 0, Vec = k * es % 16 == 0 && w % 16 == 0 ? 1 : 0 };
            int r = CudaEngine.GemvRowsPerBlock;
            Launch(CudaEngine.GemvKernel(suffix), (n + r - 1) / r, 1, 256, 0, args.Reset().Struct(a));
            return;
        }
        float alpha = 1f, beta = 0f, one = 1f;
        int ldw = stride * k;
        switch (m.DType)
        {
            case DType.F32:
                Gemm(w, Cublas.R32F, ldw, x, ldx, n, k, rows, y, ldy, &alpha, &beta);
                break;
            case DType.F16:
            {
                ulong x16 = Buffer("linear.x16", (long)rows * k * 2);
                if (converted != (x, ldx, rows, k, DType.F16))
                    Launch("be_copy_columns_f16", Blocks((long)rows * k), 1, 256, 0, args.Reset().Ptr(x).Int(ldx).Int(0).Ptr(x16).Int(k).Int(rows).Int(k));
                converted = (x, ldx, rows, k, DType.F16);
                Gemm(w, Cublas.R16F, ldw, x16, k, n, k, rows, y, ldy, &alpha, &beta);
                break;
            }
            default:
            {
                ulong hi = Buffer("linear.hi", (long)rows * k * 2), lo = Buffer("linear.lo", (long)rows * k * 2);
                if (converted != (x, ldx, rows, k, DType.BF16))
                    Launch("be_split_bf16", Blocks((long)rows * k), 1, 256, 0, args.Reset().Ptr(x).Int(ldx).Ptr(hi).Ptr(lo).Int(rows).Int(k));
                converted = (x, ldx, rows, k, DType.BF16);
                Gemm(w, Cublas.R16BF, ldw, hi, k, n, k, rows, y, ldy, &alpha, &beta);
                Gemm(w, Cublas.R16BF, ldw, lo, k, n, k, rows, y, ldy, &alpha, &one);
                break;
            }
        }
    }

    private unsafe void Gemm(ulong w, int type, int ldw, ulong x, int ldx, int n, int k, int rows, ulong y, int ldy, float* alpha, float* beta)
    {
        var started = BeginTiming();
        Cublas.Check(Cublas.cublasGemmEx(cublas, Cublas.OpT, Cublas.OpN, n, rows, k, alpha, w, type, ldw, x, type, ldx, beta,
            y, Cublas.R32F, ldy, Cublas.Compute32F, Cublas.GemmDefault), "cublasGemmEx");
        EndTiming("cublasGemmEx", started);
    }

    /// <summary>logits[r, :] = rows of float32 device memory <paramref name="hidden"/> · headᵀ (+ bias), float32 on the device.</summary>
    private void Head(ulong hidden, int rows, CudaMatrix head, DeviceVector? bias, ulong logits)
    {
        if (!head.Plain) throw new InvalidOperationException($"The head '{head.Name}' is not a plain device matrix.");
        converted = default;
        Project(head, head.Lo, head.Rows, head.Stride, hidden, head.Columns, rows, logits, head.Rows);
        if (bias != null) AddBias(logits, head.Rows, Ptr(bias), rows, head.Rows);
    }

    public void Logits(ReadOnlySpan<float> hidden, int rows, DeviceMatrix head, DeviceVector? bias, Span<float> logits)
    {
        if (rows == 0) return;
        device.MakeCurrent();
        var m = Dev(head);
        ulong h = Buffer("logits.hidden", (long)rows * m.Columns * 4), output = Buffer("logits.out", (long)rows * m.Rows * 4);
        device.UploadAsync(h, hidden[..(rows * m.Columns)]);
        Head(h, rows, m, bias, output);
        device.Download(logits[..(rows * m.Rows)], output);
    }

    public void GreedyTokens(Activation hidden, ReadOnlySpan<int> rows, DeviceMatrix head, DeviceVector? bias, Span<int> tokens)
    {
        int n = rows.Length;
        if (n == 0) return;
        foreach (int r in rows)
            if ((uint)r >= (uint)step.Rows) throw new ArgumentOutOfRangeException(nameof(rows), $"Row {r} is outside the step's {step.Rows} rows.");
        var m = Dev(head);
        ulong index = Buffer("greedy.rows", n * 4L), gathered = Buffer("greedy.hidden", (long)n * m.Columns * 4);
        ulong logits = Buffer("greedy.logits", (long)n * m.Rows * 4), result = Buffer("greedy.tokens", n * 4L);
        device.UploadAsync(index, rows);
        Launch("be_gather_rows", n, 1, 256, 0, args.Reset().Ptr(Ptr(hidden)).Ptr(index).Ptr(gathered).Int(hidden.Width));
        Head(gathered, n, m, bias, logits);
        Launch("be_argmax_rows", n, 1, 1024, 0, args.Reset().Ptr(logits).Int(m.Rows).Ptr(result));
        device.Download(tokens[..n], result);
    }
}
