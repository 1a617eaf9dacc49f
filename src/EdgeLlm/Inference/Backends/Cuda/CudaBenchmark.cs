using System.Diagnostics;
using EdgeLlm.Profiling;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>What <c>bench --device cuda</c> runs.</summary>
public sealed record CudaBenchmarkOptions
{
    public int PromptTokens { get; init; } = 128;
    public int NewTokens { get; init; } = 256;
    public int Repeats { get; init; } = 5;
    public int Warmup { get; init; } = 1;
    /// <summary>Also time a prefill of this many tokens (0: skip); the prefill target is at 2048.</summary>
    public int LongPrefillTokens { get; init; } = 2048;
    /// <summary>transformers' TPOT on the same weights, measured by tools/reference/transformers_tpot.py, if given.</summary>
    public double? ReferenceTpotMs { get; init; }
}

/// <summary>
/// GPU decode and prefill figures for one model, with the card's own limits measured in the same run:
/// read bandwidth by a device reduction over 4 GiB (kernels/rows.cu read_probe) and the dense
/// 16-bit GEMM rate through cuBLAS (8192³).
/// </summary>
public sealed record CudaBenchmarkResult
{
    public required string Model { get; init; }
    public required string Architecture { get; init; }
    public required string DType { get; init; }
    public required string Device { get; init; }
    public required long WeightBytes { get; init; }
    public required int PromptTokens { get; init; }
    public required int NewTokens { get; init; }
    /// <summary>(prefill + decode of every new token) / new tokens, the challenge's TPOT, median over repeats.</summary>
    public required double TpotMs { get; init; }
    /// <summary>One decode step as the generator sees it (graph replay + copying the token back), median.</summary>
    public required double DecodeMsPerToken { get; init; }
    /// <summary>One decode step on the device alone: the greedy graph replayed back to back (it feeds itself).</summary>
    public required double GraphReplayMsPerToken { get; init; }
    /// <summary>The same step launched kernel by kernel (no graph), for comparison.</summary>
    public required double KernelLaunchMsPerToken { get; init; }
    public required double ReadBandwidthGBps { get; init; }
    /// <summary>Weight bytes ÷ read bandwidth: no batch-1 decode step can be faster.</summary>
    public required double FloorMs { get; init; }
    public required double TpotOverFloor { get; init; }
    public required double DecodeOverFloor { get; init; }
    public required double PrefillTokensPerSecond { get; init; }
    /// <summary>
    /// The prompt's prefill alone (a cache of its length, median of 3): ms until the host has queued it, and until the device
    /// has run it. When the two are close, the host's launches bound the prompt's prefill.
    /// </summary>
    public required double PromptPrefillHostMs { get; init; }
    public required double PromptPrefillMs { get; init; }
    public required int LongPrefillTokens { get; init; }
    public required double LongPrefillTokensPerSecond { get; init; }
    /// <summary>2 × matrix parameters (head included) × tokens ÷ time of the long prefill, in TFLOP/s.</summary>
    public required double LongPrefillTflops { get; init; }
    public required double GemmTflops { get; init; }
    public required double LongPrefillOverGemm { get; init; }
    public required long PeakDeviceBytes { get; init; }
    public required long DeviceTotalBytes { get; init; }
    /// <summary>The peak beside the memory model's prediction for this run (<see cref="CudaBenchmark.Prediction"/>) and the driver's free memory at the peak.</summary>
    public required DeviceMemoryCheck Memory { get; init; }
    public required double? TransformersTpotMs { get; init; }
    public required double? SpeedupOverTransformers { get; init; }
    /// <summary>Where one decode step's time goes, per role, ms per step: each launch's device time from events around it (launch gaps excluded).</summary>
    public required IReadOnlyDictionary<string, double> StepProfileMs { get; init; }
    /// <summary>Registers, spills and blocks per multiprocessor of the decode step's kernels.</summary>
    public required IReadOnlyDictionary<string, string> KernelResources { get; init; }
    public required IReadOnlyDictionary<string, string> Libraries { get; init; }
    public required string KernelCache { get; init; }
    /// <summary>The last decode run's tokens (its prompt is the same in every run of the command): variants of the engine compare on them.</summary>
    public required IReadOnlyList<int> GreedyTokens { get; init; }
}

public static class CudaBenchmark
{
    public static CudaBenchmarkResult Run(CausalLM lm, CudaBenchmarkOptions options, IProgress<string>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var model = lm.Cuda ?? throw new ArgumentException("The model does not run on the CUDA engine (EngineOptions.Device).", nameof(lm));
        var device = model.Device;
        device.MakeCurrent();
        progress?.Report("measuring the card's read bandwidth and 16-bit GEMM rate…");
        double bandwidth = ReadBandwidth(device);
        double gemm = GemmTflops(model);
        device.ResetPeak();

        var random = new Random(1234);
        int[] Prompt(int n) => Enumerable.Range(0, n).Select(_ => random.Next(model.VocabSize)).ToArray();
        var tpot = new List<double>();
        var step = new List<double>();
        var prefill = new List<double>();
        int[] tokens = [];
        for (int r = 0; r < options.Warmup + options.Repeats; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report($"decode run {r + 1} of {options.Warmup + options.Repeats}");
            Collect();
            var (first, total) = DecodeOnce(lm, Prompt(options.PromptTokens), options.NewTokens, cancellationToken, out tokens);
            if (r < options.Warmup) continue;
            tpot.Add(total * 1000 / options.NewTokens);
            step.Add((total - first) * 1000 / Math.Max(1, options.NewTokens - 1));
            prefill.Add(options.PromptTokens / first);
        }

        Collect();
        double replay = Replay(lm, options, Prompt(options.PromptTokens), graphs: true);
        Collect();
        double launches = Replay(lm, options, Prompt(options.PromptTokens), graphs: false);
        Collect();
        var stepProfile = model.ProfileDecode(model.NewCache(options.PromptTokens + ProfileSteps), Prompt(options.PromptTokens), ProfileSteps / 2);

        var promptPrefill = Enumerable.Range(0, 3).Select(_ => { Collect(); return PrefillTimed(model, Prompt(options.PromptTokens), cancellationToken); }).ToList();

        double longRate = 0;
        int longTokens = Math.Min(options.LongPrefillTokens, model.MaxContext);
        if (longTokens > 1)
        {
            progress?.Report($"prefill of {longTokens} tokens");
            var times = new List<double>();
            for (int r = 0; r < 3; r++)
            {
                Collect();
                times.Add(PrefillOnce(model, Prompt(longTokens), cancellationToken));
            }
            longRate = longTokens / Median(times.Skip(1).ToList());
        }
        double matrixParams = model.Checkpoint.Tensors.Values.Where(t => t.Rank == 2).Sum(t => (double)t.ElementCount)
            - (model.Config.TieWordEmbeddings ? 0 : (double)model.Config.VocabSize * model.Config.HiddenSize); // the embedding is a lookup
        double longTflops = 2 * matrixParams * longRate / 1e12;

        double floor = model.DeviceWeightBytes / (bandwidth * 1e9) * 1000;
        double tpotMedian = Median(tpot), stepMedian = Median(step);
        var memory = DeviceMemoryCheck.Measure(device, Prediction(lm, options, longTokens));
        return new CudaBenchmarkResult
        {
            Model = Path.GetFileName(model.Checkpoint.Directory.TrimEnd('/')),
            Architecture = model.Config.ArchitectureName,
            DType = model.WeightDType.ToString(),
            Device = model.DeviceName,
            WeightBytes = model.DeviceWeightBytes,
            PromptTokens = options.PromptTokens,
            NewTokens = options.NewTokens,
            TpotMs = tpotMedian,
            DecodeMsPerToken = stepMedian,
            GraphReplayMsPerToken = replay,
            KernelLaunchMsPerToken = launches,
            ReadBandwidthGBps = bandwidth,
            FloorMs = floor,
            TpotOverFloor = tpotMedian / floor,
            DecodeOverFloor = stepMedian / floor,
            PrefillTokensPerSecond = Median(prefill),
            PromptPrefillHostMs = Median(promptPrefill.Select(p => p.Host).ToList()),
            PromptPrefillMs = Median(promptPrefill.Select(p => p.Total).ToList()),
            LongPrefillTokens = longTokens,
            LongPrefillTokensPerSecond = longRate,
            LongPrefillTflops = longTflops,
            GemmTflops = gemm,
            LongPrefillOverGemm = gemm > 0 ? longTflops / gemm : 0,
            PeakDeviceBytes = model.PeakDeviceBytes,
            DeviceTotalBytes = memory.DeviceTotalBytes,
            Memory = memory,
            TransformersTpotMs = options.ReferenceTpotMs,
            SpeedupOverTransformers = options.ReferenceTpotMs / tpotMedian,
            StepProfileMs = stepProfile,
            KernelResources = model.DecodeKernelResources(),
            Libraries = CudaLibraries.Found,
            KernelCache = model.KernelCache,
            GreedyTokens = tokens,
        };
    }

    /// <summary>Steps of the decode profile's cache beyond the prompt (half of them profiled).</summary>
    private const int ProfileSteps = 8;

    /// <summary>
    /// The memory model's prediction for this run (the fused engine's greedy layout): the larger of the decode runs (one cache
    /// of the prompt + the new tokens, or + the profile's 8, the prompt's prefill scratch) and the long prefill (a cache of
    /// its tokens and their scratch, which outgrows the prompt's). Caches of earlier runs are collected before each new one.
    /// </summary>
    public static MemoryPrediction Prediction(CausalLM lm, CudaBenchmarkOptions options, int longTokens)
    {
        var model = lm.Cuda ?? throw new ArgumentException("The model does not run on the CUDA engine (EngineOptions.Device).", nameof(lm));
        MemoryPrediction At(int context, int prompt) => MemoryModel.Predict(model.Config, new MemoryScenario
        {
            Context = Math.Min(context, model.MaxContext), StepRows = prompt, Runtime = RuntimeProfile.EdgeLlmCudaGreedy,
            WeightBytes = lm.Checkpoint.WeightBytes, WeightDType = model.WeightDType,
        });
        var decode = At(options.PromptTokens + Math.Max(options.NewTokens, ProfileSteps), options.PromptTokens);
        if (longTokens <= options.PromptTokens) return decode;
        var prefill = At(longTokens, longTokens);
        return prefill.TotalBytes > decode.TotalBytes ? prefill : decode;
    }

    /// <summary>Lets the engine free the caches of earlier runs before the next one allocates (it sweeps those collected).</summary>
    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    /// <summary>One greedy decode (its cache dies with the call): seconds to the first token and in all.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (double First, double Total) DecodeOnce(CausalLM lm, int[] prompt, int newTokens, CancellationToken cancellationToken, out int[] tokens)
    {
        var decoder = lm.GreedyDecoder(prompt.Length + newTokens)!;
        tokens = new int[newTokens];
        var clock = Stopwatch.StartNew();
        tokens[0] = decoder.First(prompt, newTokens, cancellationToken);
        double first = clock.Elapsed.TotalSeconds;
        for (int i = 1; i < newTokens; i++) tokens[i] = decoder.Next(tokens[i - 1]);
        return (first, clock.Elapsed.TotalSeconds);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static double PrefillOnce(CudaEngine model, int[] prompt, CancellationToken cancellationToken)
    {
        var cache = model.NewCache(prompt.Length);
        var clock = Stopwatch.StartNew();
        model.Prefill(cache, prompt, cancellationToken);
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>A prefill into a new cache: ms until it is queued, and until it has run.</summary>
    private static (double Host, double Total) PrefillTimed(CudaEngine model, int[] prompt, CancellationToken cancellationToken)
    {
        var cache = model.NewCache(prompt.Length);
        model.Device.Synchronize();
        var clock = Stopwatch.StartNew();
        model.EnqueuePrefill(cache, prompt, cancellationToken);
        double host = clock.Elapsed.TotalMilliseconds;
        model.Device.Synchronize();
        return (host, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>ms per decode step with the step replayed (or launched) back to back, synchronising once.</summary>
    private static double Replay(CausalLM lm, CudaBenchmarkOptions options, int[] prompt, bool graphs)
    {
        var model = lm.Cuda!;
        bool saved = model.UseGraphs;
        model.UseGraphs = graphs;
        try
        {
            model.DecodeBackToBack(model.NewCache(options.PromptTokens + options.NewTokens), prompt, 2); // captures the graph, warms up
            Collect();
            return model.DecodeBackToBack(model.NewCache(options.PromptTokens + options.NewTokens), prompt, options.NewTokens - 1);
        }
        finally { model.UseGraphs = saved; }
    }

    /// <summary>GB/s of a device reduction over 4 GiB (kernels/rows.cu read_probe), the best of five.</summary>
    internal static unsafe double ReadBandwidth(CudaDevice device)
    {
        const long bytes = 4L << 30;
        ulong buffer = device.Alloc(bytes, "bandwidth probe"), sink = device.Alloc(16, "probe sink");
        try
        {
            using var args = new KernelArgs();
            device.Launch("fill_pattern", device.Multiprocessors * 8, 1, 512, 0, args.Reset().Ptr(buffer).Long(bytes / 4));
            int blocks = device.Multiprocessors * 8;
            void Probe() => device.Launch("read_probe", blocks, 1, 512, 0, args.Reset().Ptr(buffer).Long(bytes / 16).Ptr(sink));
            Probe(); Probe();
            device.Synchronize();
            var times = new List<double>();
            for (int r = 0; r < 5; r++)
            {
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < 10; i++) Probe();
                device.Synchronize();
                times.Add(clock.Elapsed.TotalSeconds / 10);
            }
            return bytes / times.Min() / 1e9;
        }
        finally { device.Free(buffer); device.Free(sink); }
    }

    private static unsafe double GemmTflops(CudaEngine model)
    {
        var device = model.Device;
        const int n = 8192;
        long bytes = (long)n * n * 2;
        ulong a = device.Alloc(bytes, "gemm a"), b = device.Alloc(bytes, "gemm b"), c = device.Alloc((long)n * n * 4, "gemm c");
        try
        {
            using var args = new KernelArgs();
            // Random-looking 16-bit bit patterns would include NaNs; small finite values instead: the fill's words
            // masked to exponents of ordinary floats are not needed for a rate, zeros are avoided (they run faster).
            device.Launch("fill_pattern", device.Multiprocessors * 8, 1, 512, 0, args.Reset().Ptr(a).Long(bytes / 4));
            device.Launch("fill_pattern", device.Multiprocessors * 8, 1, 512, 0, args.Reset().Ptr(b).Long(bytes / 4));
            device.Launch("sanitize_f16", device.Multiprocessors * 8, 1, 512, 0, args.Reset().Ptr(a).Long(bytes / 2));
            device.Launch("sanitize_f16", device.Multiprocessors * 8, 1, 512, 0, args.Reset().Ptr(b).Long(bytes / 2));
            model.Gemm16(a, b, c, n);
            device.Synchronize();
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < 10; i++) model.Gemm16(a, b, c, n);
            device.Synchronize();
            return 2.0 * n * n * n * 10 / clock.Elapsed.TotalSeconds / 1e12;
        }
        finally { device.Free(a); device.Free(b); device.Free(c); }
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return 0;
        var s = values.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
