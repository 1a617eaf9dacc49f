using System.Diagnostics;
using System.Numerics.Tensors;
using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Profiling;

/// <summary>What this machine can do at best, measured in the same run as a benchmark so ratios are honest.</summary>
public sealed record MachineLimits(double ReadBandwidthGBps, double Fp32GemmGflops, int Threads, string GemmShape)
{
    /// <summary>Every bandwidth measurement taken in the run (GB/s); <see cref="ReadBandwidthGBps"/> is the highest.</summary>
    public IReadOnlyList<double> ReadBandwidthSamplesGBps { get; init; } = [];

    /// <summary>Measures the bandwidth again (a shared machine's bandwidth drifts) and keeps the higher figure, so ratios to it stay conservative.</summary>
    public MachineLimits WithBandwidthRemeasured(int repeats = 5, long bufferBytes = 1L << 30, CancellationToken cancellationToken = default)
    {
        double again = ReadBandwidth(repeats, bufferBytes, cancellationToken);
        var samples = (ReadBandwidthSamplesGBps.Count == 0 ? [ReadBandwidthGBps] : ReadBandwidthSamplesGBps).Append(again).ToList();
        return this with { ReadBandwidthGBps = samples.Max(), ReadBandwidthSamplesGBps = samples };
    }

    /// <summary>Measures read bandwidth (summing a buffer far larger than the caches on every core) and the
    /// FP32 GEMM throughput of EdgeLlm's own kernel; each the median of <paramref name="repeats"/> runs.</summary>
    public static MachineLimits Measure(int repeats = 5, long bufferBytes = 1L << 30, CancellationToken cancellationToken = default) =>
        new(ReadBandwidth(repeats, bufferBytes, cancellationToken), GemmGflops(repeats, 512, 2048, 2048, cancellationToken),
            Environment.ProcessorCount, "512x2048x2048");

    public static double ReadBandwidth(int repeats, long bufferBytes, CancellationToken cancellationToken = default)
    {
        int threads = Environment.ProcessorCount;
        int perThread = (int)(bufferBytes / sizeof(float) / threads);
        var buffers = Enumerable.Range(0, threads).Select(_ => new float[perThread]).ToArray();
        Parallel.For(0, threads, t => buffers[t].AsSpan().Fill(1f)); // touch every page first
        var seconds = new List<double>();
        float sink = 0;
        for (int r = 0; r < repeats + 1; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var partial = new float[threads];
            var sw = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => partial[t] = TensorPrimitives.Sum(buffers[t]));
            if (r > 0) seconds.Add(sw.Elapsed.TotalSeconds); // the first pass is a warm-up
            sink += partial.Sum();
        }
        GC.KeepAlive(sink);
        return (double)perThread * threads * sizeof(float) / Statistics.Median(seconds) / 1e9;
    }

    public static double GemmGflops(int repeats, int m, int n, int k, CancellationToken cancellationToken = default)
    {
        var rng = new Random(1);
        var x = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble()).ToArray();
        var w = Enumerable.Range(0, n * k).Select(_ => (float)rng.NextDouble()).ToArray();
        var y = new float[m * n];
        var seconds = new List<double>();
        for (int r = 0; r < repeats + 1; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sw = Stopwatch.StartNew();
            MatMul.Linear(x, m, w, n, y);
            if (r > 0) seconds.Add(sw.Elapsed.TotalSeconds);
        }
        return 2.0 * m * n * k / Statistics.Median(seconds) / 1e9;
    }
}
