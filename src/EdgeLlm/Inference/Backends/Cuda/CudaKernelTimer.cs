namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>
/// Device time of each launch of a profiled step: an event is recorded on the stream before and after each launch and
/// the launches stay queued back to back (nothing waits for the host between them), so an entry is the kernel's own
/// run on the device — its ramp and tail included, the host's launch cost and the gap between launches not.
/// </summary>
internal sealed unsafe class CudaKernelTimer(CudaDevice device) : IDisposable
{
    private readonly List<(string Label, IntPtr Start, IntPtr End)> pending = new();
    private readonly Dictionary<string, (double Ms, int Count)> totals = new();

    public IntPtr Start() => Record();

    public void Stop(string label, IntPtr start) => pending.Add((label, start, Record()));

    /// <summary>Waits for the stream, then adds every pending launch's time to the totals by label.</summary>
    public IReadOnlyDictionary<string, (double Ms, int Count)> Collect()
    {
        device.Synchronize();
        foreach (var (label, start, end) in pending)
        {
            float ms;
            Cu.Check(Cu.cuEventElapsedTime(&ms, start, end), "cuEventElapsedTime");
            var (total, count) = totals.GetValueOrDefault(label);
            totals[label] = (total + ms, count + 1);
            Cu.cuEventDestroy_v2(start);
            Cu.cuEventDestroy_v2(end);
        }
        pending.Clear();
        return totals;
    }

    public void Dispose()
    {
        foreach (var (_, start, end) in pending) { Cu.cuEventDestroy_v2(start); Cu.cuEventDestroy_v2(end); }
        pending.Clear();
    }

    private IntPtr Record()
    {
        IntPtr e;
        Cu.Check(Cu.cuEventCreate(&e, 0), "cuEventCreate");
        Cu.Check(Cu.cuEventRecord(e, device.Stream), "cuEventRecord");
        return e;
    }
}
