using System.Diagnostics;

namespace EdgeLlm.Profiling;

/// <summary>
/// Samples the process's resident set (VmRSS) on a background thread every few milliseconds and keeps
/// the highest value seen. The kernel's VmHWM is exact but cannot always be reset; the sampler brackets
/// one piece of work, at the cost of missing spikes shorter than its interval.
/// </summary>
public sealed class RssSampler : IDisposable
{
    private readonly Thread thread;
    private readonly TimeSpan interval;
    private volatile bool stop;
    private long peak;
    private int samples;

    public RssSampler(TimeSpan? interval = null)
    {
        this.interval = interval ?? TimeSpan.FromMilliseconds(10);
        peak = ProcessMemory.ResidentBytes;
        thread = new Thread(Loop) { IsBackground = true, Name = "rss-sampler", Priority = ThreadPriority.AboveNormal };
        thread.Start();
    }

    public long PeakBytes => Math.Max(Interlocked.Read(ref peak), ProcessMemory.ResidentBytes);
    public int Samples => samples;

    private void Loop()
    {
        while (!stop)
        {
            long now = ProcessMemory.ResidentBytes;
            long seen;
            while (now > (seen = Interlocked.Read(ref peak)) && Interlocked.CompareExchange(ref peak, now, seen) != seen) { }
            Interlocked.Increment(ref samples);
            Thread.Sleep(interval);
        }
    }

    /// <summary>Stops sampling (taking one last sample) and returns the peak.</summary>
    public long Stop()
    {
        stop = true;
        thread.Join();
        return PeakBytes;
    }

    public void Dispose() { if (!stop) Stop(); }
}
