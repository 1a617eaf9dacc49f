using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;

namespace EdgeLlm.Profiling;

public sealed record BenchmarkOptions
{
    public int PromptTokens { get; init; } = 128;
    public int NewTokens { get; init; } = 64;
    public int BatchSize { get; init; } = 1;
    public int Repeats { get; init; } = 5;
    public int Warmup { get; init; } = 1;
    public int Seed { get; init; } = 0;

    /// <summary>
    /// Bytes of the read-bandwidth probe taken before the first measured run and after every one, so
    /// each run's floor uses the bandwidth of its own minutes; 0 turns the probes off (ratios then use
    /// the limits given).
    /// </summary>
    public long BandwidthProbeBytes { get; init; } = 512L << 20;
}

/// <summary>
/// One benchmark's figures. TPOT follows the challenge: the time to generate the whole response
/// (prefill of the prompt included) divided by the generated tokens, all of them counted, first
/// included. <c>DecodeMsPerStep</c> is one decode step for the whole batch, prefill excluded. The
/// floor is the issue's: all weight bytes ÷ the measured bandwidth. A shared machine's bandwidth
/// drifts by half within an hour, so every measured run is bracketed by two bandwidth probes and
/// <c>TpotOverFloor</c> is the median of each run's own ratio; <c>TpotOverFloorAtBestBandwidth</c>
/// divides the median step by the floor at the highest bandwidth seen in the whole run (the
/// strictest reading). <c>DecodeOverBandwidth</c> is the fraction of the bandwidth a step achieves
/// on the bytes it actually reads (every linear layer and the head, not the embedding table).
/// </summary>
public sealed record BenchmarkResult
{
    public required string Model { get; init; }
    public required string Architecture { get; init; }
    public required string DType { get; init; }
    public required long Parameters { get; init; }
    /// <summary>Bytes of every stored tensor (the floor's numerator).</summary>
    public required long WeightBytes { get; init; }
    /// <summary>Bytes a decode step reads: every linear layer and the head, not the embedding table.</summary>
    public required long StreamedBytesPerStep { get; init; }
    public required int PromptTokens { get; init; }
    public required int NewTokens { get; init; }
    public required int BatchSize { get; init; }
    public required int Repeats { get; init; }
    /// <summary>Median TPOT over the measured runs (see TpotDefinition).</summary>
    public required double TpotMs { get; init; }
    public required double TpotMsP10 { get; init; }
    public required double TpotMsP90 { get; init; }
    /// <summary>Median decode step for the whole batch, prefill excluded.</summary>
    public required double DecodeMsPerStep { get; init; }
    public required double DecodeTokensPerSecond { get; init; }
    public required double PrefillTokensPerSecond { get; init; }
    public required double PrefillGflops { get; init; }
    public required double EndToEndTokensPerSecond { get; init; }
    /// <summary>Peak resident set over the measured runs: the larger of the kernel's VmHWM and the sampler's peak.</summary>
    public required long PeakRssBytes { get; init; }
    public required long SampledPeakRssBytes { get; init; }
    public required int RssSamples { get; init; }
    public required long KvCacheBytes { get; init; }
    public required MachineLimits Limits { get; init; }
    /// <summary>Weight bytes ÷ the highest read bandwidth of the run.</summary>
    public required double TpotFloorMs { get; init; }
    /// <summary>Median over runs of the decode step ÷ that run's own floor.</summary>
    public required double TpotOverFloor { get; init; }
    public required double TpotOverFloorAtBestBandwidth { get; init; }
    /// <summary>Per measured run, the mean of the two bandwidth probes around it.</summary>
    public required IReadOnlyList<double> RunBandwidthGBps { get; init; }
    public required double PrefillOverGemm { get; init; }
    public required double DecodeBandwidthGBps { get; init; }
    public required double DecodeOverBandwidth { get; init; }
    public required int Warmup { get; init; }

    /// <summary>Says in the JSON itself which tokens TPOT counts.</summary>
    public string TpotDefinition => "tpot_ms = (prefill + decode wall time of one request batch) / new_tokens, per sequence: " +
        "every generated token counted, the first (produced by the prefill) included, prompt tokens not counted; median over repeats, warm-up runs excluded";
    public string DecodeDefinition => "decode_ms_per_step = decode wall time / (new_tokens - 1): one step for the whole batch, prefill excluded";
    public string EndToEndDefinition => "end_to_end_tokens_per_second = batch * new_tokens / (prefill + decode time)";
    public string FloorDefinition => "tpot_floor_ms = weight_bytes / read bandwidth; tpot_over_floor = median over measured runs of " +
        "(that run's decode step / (weight_bytes / mean of the bandwidth probes just before and just after it)), run_bandwidth_g_bps lists those means; " +
        "tpot_over_floor_at_best_bandwidth = decode_ms_per_step / (weight_bytes / highest bandwidth of the run); " +
        "decode_over_bandwidth = (streamed_bytes_per_step / decode step) / highest read bandwidth (bytes a step actually reads, embedding table excluded)";
}

public static class ThroughputBenchmark
{
    /// <summary>
    /// What <c>edgellm bench</c> runs: loads the model folder, measures this machine's read bandwidth and FP32 GEMM
    /// rate, then benchmarks generation against them. <paramref name="progress"/> gets the stages "machine limits"
    /// (probes), then those of <see cref="Run"/>.
    /// </summary>
    public static BenchmarkResult Measure(string modelDirectory, BenchmarkOptions options, EngineOptions? engine = null,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var model = CausalLM.Load(modelDirectory, engine);
        var limits = MachineLimits.Measure(cancellationToken: cancellationToken, progress: progress);
        return Run(model, options, limits, progress, cancellationToken);
    }

    /// <summary>Benchmarks a loaded model; <paramref name="progress"/> gets the stages "warm-up" and "runs" (generations).</summary>
    public static BenchmarkResult Run(CausalLM model, BenchmarkOptions options, MachineLimits limits,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var config = model.Config;
        var rng = new Random(options.Seed);
        var prompts = Enumerable.Range(0, options.BatchSize)
            .Select(_ => Enumerable.Range(0, options.PromptTokens).Select(_ => rng.Next(config.VocabSize)).ToArray()).ToList();
        var generation = new GenerationOptions { MaxNewTokens = options.NewTokens, StopAtEos = false };
        var generator = new Generator(model);
        var runs = new List<GenerationResult>();
        for (int r = 0; r < options.Warmup; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            generator.GreedyBatch(prompts, generation, cancellationToken);
            progress?.Report(new StageProgress("warm-up", r + 1, options.Warmup, "runs"));
        }
        var probes = new List<double>();
        void Probe()
        {
            if (options.BandwidthProbeBytes > 0)
                probes.Add(ReadBandwidthProbe.Measure(3, options.BandwidthProbeBytes, cancellationToken));
        }
        Probe();
        long peakRss = 0, sampledPeak = 0;
        int rssSamples = 0;
        for (int r = 0; r < options.Repeats; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool peakWasReset = ProcessMemory.ResetPeak();
            using (var sampler = new RssSampler())
            {
                runs.Add(generator.GreedyBatch(prompts, generation, cancellationToken)[0]);
                sampledPeak = Math.Max(sampledPeak, sampler.Stop());
                rssSamples += sampler.Samples;
            }
            if (peakWasReset) peakRss = Math.Max(peakRss, ProcessMemory.PeakResidentBytes); // else VmHWM would include earlier probes' buffers
            Probe();
            progress?.Report(new StageProgress("runs", r + 1, options.Repeats, "runs"));
        }
        limits = limits.WithBandwidthSamples(probes);
        long kvBytes = 2L * config.KvWidthAllLayers * sizeof(float) * (options.PromptTokens + options.NewTokens) * options.BatchSize;

        var layout = TensorLayout.For(config);
        long streamed = layout.Where(t => t.Role is TensorRole.Linear or TensorRole.Head || (t.Role == TensorRole.Embedding && config.TieWordEmbeddings))
            .Sum(t => model.Checkpoint[t.Name].ByteLength);
        var tpots = runs.Select(x => x.TpotMs).ToList();
        var steps = runs.Select(x => x.DecodeSeconds * 1000 / Math.Max(1, options.NewTokens - 1)).ToList();
        double decodeStep = Statistics.Median(steps);
        var runBandwidth = probes.Count == runs.Count + 1
            ? runs.Select((_, i) => (probes[i] + probes[i + 1]) / 2).ToList()
            : runs.Select(_ => limits.ReadBandwidthGBps).ToList();
        double FloorMs(double gbps) => model.Checkpoint.WeightBytes / (gbps * 1e9) * 1000;
        double prefillSeconds = Statistics.Median(runs.Select(x => x.PrefillSeconds).ToList());
        double prefillFlops = PrefillFlops(config, layout, options.PromptTokens) * options.BatchSize;
        double floorMs = FloorMs(limits.ReadBandwidthGBps);
        double prefillGflops = prefillFlops / prefillSeconds / 1e9;
        double decodeBandwidth = streamed / (decodeStep / 1000) / 1e9;
        return new BenchmarkResult
        {
            Model = Path.GetFileName(model.Checkpoint.Directory), Architecture = config.ArchitectureName, DType = model.Checkpoint.DType.ToTorchName(),
            Parameters = model.Checkpoint.ParameterCount, WeightBytes = model.Checkpoint.WeightBytes, StreamedBytesPerStep = streamed,
            PromptTokens = options.PromptTokens, NewTokens = options.NewTokens, BatchSize = options.BatchSize, Repeats = options.Repeats,
            TpotMs = Statistics.Median(tpots), TpotMsP10 = Statistics.Percentile(tpots, 10), TpotMsP90 = Statistics.Percentile(tpots, 90),
            DecodeMsPerStep = decodeStep, DecodeTokensPerSecond = options.BatchSize * 1000 / decodeStep,
            PrefillTokensPerSecond = options.BatchSize * options.PromptTokens / prefillSeconds, PrefillGflops = prefillGflops,
            EndToEndTokensPerSecond = Statistics.Median(runs.Select(x => options.BatchSize * options.NewTokens / (x.PrefillSeconds + x.DecodeSeconds)).ToList()),
            PeakRssBytes = Math.Max(peakRss, sampledPeak), SampledPeakRssBytes = sampledPeak, RssSamples = rssSamples, KvCacheBytes = kvBytes,
            Limits = limits, TpotFloorMs = floorMs,
            TpotOverFloor = Statistics.Median(steps.Select((step, i) => step / FloorMs(runBandwidth[i])).ToList()),
            TpotOverFloorAtBestBandwidth = decodeStep / floorMs, RunBandwidthGBps = runBandwidth,
            PrefillOverGemm = prefillGflops / limits.Fp32GemmGflops, DecodeBandwidthGBps = decodeBandwidth,
            DecodeOverBandwidth = decodeBandwidth / limits.ReadBandwidthGBps, Warmup = options.Warmup,
        };
    }

    /// <summary>Multiply-adds ×2 of one prompt's prefill: every linear layer per token, causal attention, and the head for the last token.</summary>
    public static double PrefillFlops(ModelConfig c, IReadOnlyList<TensorSpec> layout, int tokens)
    {
        double linear = layout.Where(t => t.Role == TensorRole.Linear).Sum(t => 2.0 * t.Shape[0] * t.Shape[1]) * tokens;
        double attention = 2.0 * 2.0 * Enumerable.Range(0, c.NumLayers).Sum(i => c.Layer(i).NumHeads) * c.HeadDim * (tokens * (tokens + 1) / 2.0);
        double head = 2.0 * c.VocabSize * c.HiddenSize;
        return linear + attention + head;
    }
}
