namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>
/// Calibration statistics on the device (kernels/statistics.cu): float64 accumulators in device memory that the column
/// sums and row cosines add to, so a calibration pass copies no activation to the host; the sums cross only when read.
/// </summary>
public sealed partial class CudaBackend
{
    private readonly HashSet<CudaAccumulator> accumulators = new();

    public Accumulator CreateAccumulator(ReadOnlySpan<double> initial)
    {
        device.MakeCurrent();
        ulong p = device.Alloc(Math.Max(8L, 8L * initial.Length), "accumulator");
        if (initial.Length > 0) device.Upload(p, initial);
        var a = new CudaAccumulator(this, initial.Length, p);
        accumulators.Add(a);
        return a;
    }

    public void ReadAccumulator(Accumulator sums, Span<double> destination)
    {
        device.MakeCurrent();
        var a = Dev(sums);
        if (a.Length > 0) device.Download(destination[..a.Length], a.Pointer);
    }

    /// <summary>One thread per column walks the step's rows in order (kernels/statistics.cu be_column_sums).</summary>
    public void AccumulateColumns(Activation x, Accumulator sum, Accumulator sumOfSquares)
    {
        if (sum.Length != x.Width || sumOfSquares.Length != x.Width)
            throw new ArgumentException($"Column sums of {x.Width} columns need accumulators of {x.Width} values, not {sum.Length} and {sumOfSquares.Length}.");
        if (step.Rows == 0 || x.Width == 0) return;
        Launch("be_column_sums", Blocks(x.Width), 1, 256, 0, args.Reset().Ptr(Ptr(x)).Int(x.Width).Int(step.Rows).Int(x.Width)
            .Ptr(Dev(sum).Pointer).Ptr(Dev(sumOfSquares).Pointer));
    }

    /// <summary>One block per row writes the row's cosine to a scratch buffer; one block adds the rows' sum (be_row_cosines, be_add_row_sum).</summary>
    public void AccumulateRowCosines(Activation a, Activation b, Accumulator sums, int index)
    {
        if (a.Width != b.Width) throw new ArgumentException($"Row cosines of {a.Width} against {b.Width} columns.");
        if ((uint)index >= (uint)sums.Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"The accumulator holds {sums.Length} values.");
        int rows = step.Rows;
        if (rows == 0) return;
        ulong cosines = Buffer("statistics.cosines", 8L * rows);
        Launch("be_row_cosines", rows, 1, 256, 0, args.Reset().Ptr(Ptr(a)).Int(a.Width).Ptr(Ptr(b)).Int(b.Width).Int(a.Width).Ptr(cosines));
        Launch("be_add_row_sum", 1, 1, 256, 0, args.Reset().Ptr(cosines).Int(rows).Ptr(Dev(sums).Pointer).Int(index));
    }

    private static CudaAccumulator Dev(Accumulator a) => (CudaAccumulator)a;

    private void Free(CudaAccumulator a)
    {
        if (disposed || !accumulators.Remove(a)) return;
        device.MakeCurrent();
        device.Synchronize(); // kernels queued on it may still run
        device.Free(a.Pointer);
    }

    private void FreeAccumulators()
    {
        foreach (var a in accumulators) device.Free(a.Pointer);
        accumulators.Clear();
    }

    private sealed class CudaAccumulator(CudaBackend backend, int length, ulong pointer) : Accumulator(length)
    {
        public ulong Pointer { get; } = pointer;

        public override void Dispose() => backend.Free(this);
    }
}
