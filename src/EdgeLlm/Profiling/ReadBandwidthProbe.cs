using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace EdgeLlm.Profiling;

/// <summary>
/// Memory read bandwidth: every core sums its own buffer, together far larger than the caches; the
/// median of several passes after one warm-up pass. The buffers live outside the GC heap and are
/// returned to the system before <see cref="Measure"/> returns, so a probe taken between benchmark
/// runs leaves nothing resident to inflate the runs' peak RSS.
/// </summary>
public static class ReadBandwidthProbe
{
    public static unsafe double Measure(int passes = 5, long bytes = 1L << 30, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(passes, 1);
        int threads = Environment.ProcessorCount;
        int perThread = (int)Math.Min(int.MaxValue, bytes / sizeof(float) / threads);
        var buffers = new nint[threads];
        try
        {
            for (int t = 0; t < threads; t++)
                buffers[t] = (nint)NativeMemory.AlignedAlloc((nuint)perThread * sizeof(float), 4096);
            Span<float> Buffer(int t) => new((void*)buffers[t], perThread);
            Parallel.For(0, threads, t => Buffer(t).Fill(1f)); // touch every page first
            var seconds = new List<double>();
            var partial = new float[threads];
            float sink = 0;
            for (int pass = 0; pass <= passes; pass++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var sw = Stopwatch.StartNew();
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => partial[t] = TensorPrimitives.Sum(Buffer(t)));
                if (pass > 0) seconds.Add(sw.Elapsed.TotalSeconds);
                sink += partial.Sum();
            }
            GC.KeepAlive(sink);
            return (double)perThread * threads * sizeof(float) / Statistics.Median(seconds) / 1e9;
        }
        finally
        {
            foreach (var b in buffers)
                if (b != 0) NativeMemory.AlignedFree((void*)b);
        }
    }
}
