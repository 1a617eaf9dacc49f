using System.Diagnostics;
using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Profiling;

/// <summary>What this machine can do at best, measured in the same run as a benchmark so ratios are honest.</summary>
public sealed record MachineLimits(double ReadBandwidthGBps, double Fp32GemmGflops, int Threads, string GemmShape)
{
    /// <summary>Every bandwidth measurement taken in the run (GB/s); <see cref="ReadBandwidthGBps"/> is the highest.</summary>
    public IReadOnlyList<double> ReadBandwidthSamplesGBps { get; init; } = [];

    /// <summary>Adds bandwidth measurements taken later in the run (a shared machine's bandwidth drifts); <see cref="ReadBandwidthGBps"/> stays the highest of all.</summary>
    public MachineLimits WithBandwidthSamples(IEnumerable<double> gbps)
    {
        var samples = (ReadBandwidthSamplesGBps.Count == 0 ? [ReadBandwidthGBps] : ReadBandwidthSamplesGBps).Concat(gbps).ToList();
        return this with { ReadBandwidthGBps = samples.Max(), ReadBandwidthSamplesGBps = samples };
    }

    /// <summary>Measures read bandwidth (summing a buffer far larger than the caches on every core) and the
    /// FP32 GEMM throughput of EdgeLlm's own kernel; each the median of <paramref name="repeats"/> runs.
    /// <paramref name="progress"/> gets stage "machine limits", one step per probe.</summary>
    public static MachineLimits Measure(int repeats = 5, long bufferBytes = 1L << 30, CancellationToken cancellationToken = default,
        IProgress<StageProgress>? progress = null)
    {
        progress?.Report(new StageProgress("machine limits", 0, 2, "probes"));
        double bandwidth = ReadBandwidthProbe.Measure(repeats, bufferBytes, cancellationToken);
        progress?.Report(new StageProgress("machine limits", 1, 2, "probes"));
        double gemm = GemmGflops(repeats, 512, 2048, 2048, cancellationToken);
        progress?.Report(new StageProgress("machine limits", 2, 2, "probes"));
        return new(bandwidth, gemm, Environment.ProcessorCount, "512x2048x2048");
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
