using System.Diagnostics;
using EdgeLlm.Checkpoints;
using EdgeLlm.Profiling;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>What <c>bench --device cuda --batch N</c> (N &gt; 1) runs.</summary>
public sealed record CudaBatchBenchmarkOptions
{
    public int Batch { get; init; } = 16;
    public int PromptTokens { get; init; } = 512;
    public int NewTokens { get; init; } = 128;
    public int Repeats { get; init; } = 3;
    public int Warmup { get; init; } = 1;
    /// <summary>
    /// The first this many tokens of every prompt are the same, and every sequence after the first starts from a share of
    /// the first one's cache (as the continuous batcher shares a few-shot prefix): 0, nothing shared.
    /// </summary>
    public int SharedPrefixTokens { get; init; }
    /// <summary>Prefill stacks whole prompts into steps of at most this many rows.</summary>
    public int PrefillRowsPerStep { get; init; } = 4096;
    /// <summary>transformers' generate throughput on the same weights and shapes (tools/reference/transformers_batched.py), if given.</summary>
    public double? ReferenceTokensPerSecond { get; init; }
    public long? ReferencePeakBytes { get; init; }
}

/// <summary>
/// Batched greedy decoding on the CUDA backend: <see cref="CudaBatchBenchmarkOptions.Batch"/> sequences in flight, each
/// step one <see cref="CausalLM.GreedyNext"/> over all of them (argmax on the device). Medians over repeats; the card's
/// read bandwidth measured in the same run gives the step's floor (weights once + every sequence's keys and values).
/// </summary>
public sealed record CudaBatchBenchmarkResult
{
    public required string Model { get; init; }
    public required string Architecture { get; init; }
    public required string DType { get; init; }
    public required string Device { get; init; }
    public required long WeightBytes { get; init; }
    public required int Batch { get; init; }
    public required int PromptTokens { get; init; }
    public required int NewTokens { get; init; }
    public required int SharedPrefixTokens { get; init; }
    /// <summary>Batch × new tokens ÷ (prefill + decode): what transformers' <c>generate</c> timing measures.</summary>
    public required double GenerateTokensPerSecond { get; init; }
    /// <summary>Batch × (new tokens − 1) ÷ the decode steps' time (the first token comes from the prefill).</summary>
    public required double DecodeTokensPerSecond { get; init; }
    public required double DecodeMsPerStep { get; init; }
    public required double PrefillTokensPerSecond { get; init; }
    public required double ReadBandwidthGBps { get; init; }
    /// <summary>(weight bytes + KV bytes of every sequence at the mean decode length, a shared prefix once) ÷ read bandwidth.</summary>
    public required double FloorMsPerStep { get; init; }
    public required double StepOverFloor { get; init; }
    /// <summary>Device bytes at the peak (weights, KV pool, activations), as the device allocator counts them.</summary>
    public required long PeakDeviceBytes { get; init; }
    public required long KvPoolBytes { get; init; }
    public required long ScratchBytes { get; init; }
    /// <summary>The peak beside the memory model's prediction for this run (<see cref="CudaBatchBenchmark.Prediction"/>) and the driver's free memory at the peak.</summary>
    public required DeviceMemoryCheck Memory { get; init; }
    public required double? TransformersTokensPerSecond { get; init; }
    public required long? TransformersPeakBytes { get; init; }
    public required double? SpeedupOverTransformers { get; init; }
    /// <summary>One decode step kernel by kernel, each launch's device time from events around it (launch gaps excluded): ms per step by kernel.</summary>
    public required IReadOnlyDictionary<string, double> StepProfileMs { get; init; }
    /// <summary>Decode-step graphs the backend held at the end (0: every kernel launched one by one).</summary>
    public required int GraphsCaptured { get; init; }
    public required string? GraphFailure { get; init; }
}

public static class CudaBatchBenchmark
{
    public static CudaBatchBenchmarkResult Run(CausalLM lm, CudaBatchBenchmarkOptions options, IProgress<string>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var backend = lm.Backend as CudaBackend ?? throw new ArgumentException("The model does not run on the CUDA backend (EngineOptions.Device).", nameof(lm));
        if (options.Batch < 1 || options.PromptTokens < 1 || options.NewTokens < 2) throw new ArgumentException("The batch benchmark needs a batch, a prompt and at least 2 new tokens.");
        if (options.SharedPrefixTokens < 0 || options.SharedPrefixTokens >= options.PromptTokens)
            throw new ArgumentException($"A shared prefix of {options.SharedPrefixTokens} tokens does not fit prompts of {options.PromptTokens} (0 … {options.PromptTokens - 1}).");
        var device = backend.Device;
        device.MakeCurrent();
        progress?.Report("measuring the card's read bandwidth…");
        double bandwidth = CudaBenchmark.ReadBandwidth(device);
        device.ResetPeak();
        var random = new Random(1234);
        var generate = new List<double>();
        var decode = new List<double>();
        var prefill = new List<double>();
        for (int r = 0; r < options.Warmup + options.Repeats; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report($"batch {options.Batch}: run {r + 1} of {options.Warmup + options.Repeats}");
            var prompts = Prompts(lm, options, random);
            var clock = Stopwatch.StartNew();
            var (caches, next) = Prefill(lm, options, prompts, options.NewTokens, cancellationToken);
            double prefillSeconds = clock.Elapsed.TotalSeconds;
            for (int s = 1; s < options.NewTokens; s++)
                next = lm.GreedyNext(next.Select((t, i) => new Segment(caches[i], [t])).ToList(), cancellationToken);
            double total = clock.Elapsed.TotalSeconds;
            foreach (var cache in caches) cache.Release(); // the next run reuses the blocks
            if (r < options.Warmup) continue;
            generate.Add(options.Batch * (double)options.NewTokens / total);
            decode.Add(total - prefillSeconds);
            prefill.Add(options.Batch * (double)options.PromptTokens / prefillSeconds);
        }
        int graphsCaptured = backend.GraphCount;
        // One more decode step with every launch timed alone: where the step's device time goes.
        var profile = new Dictionary<string, (double Ms, int Count)>();
        {
            var (caches, next) = Prefill(lm, options, Prompts(lm, options, random), 2, cancellationToken);
            backend.Profile = profile;
            try { lm.GreedyNext(next.Select((t, i) => new Segment(caches[i], [t])).ToList(), cancellationToken); }
            finally { backend.Profile = null; }
            foreach (var cache in caches) cache.Release();
        }
        double decodeSeconds = Median(decode);
        double stepMs = decodeSeconds * 1000 / (options.NewTokens - 1);
        var c = lm.Config;
        long kvPerPosition = Enumerable.Range(0, c.NumLayers).Sum(l => 2L * c.Layer(l).NumKvHeads * c.HeadDim * 2);
        long weightBytes = lm.Checkpoint.Tensors.Values.Where(t => t.Rank == 2).Sum(t => t.ByteLength);
        double meanLength = options.PromptTokens + options.NewTokens / 2.0;
        int shared = options.SharedPrefixTokens;
        double floorMs = (weightBytes + (shared + options.Batch * (meanLength - shared)) * kvPerPosition) / (bandwidth * 1e9) * 1000;
        double generateRate = Median(generate);
        return new CudaBatchBenchmarkResult
        {
            Model = Path.GetFileName(lm.Checkpoint.Directory.TrimEnd('/')),
            Architecture = c.ArchitectureName,
            DType = string.Join("+", lm.Checkpoint.Tensors.Values.Where(t => t.Rank == 2).Select(t => t.DType).Distinct()),
            Device = device.Describe(backend.Name),
            WeightBytes = weightBytes,
            Batch = options.Batch,
            PromptTokens = options.PromptTokens,
            NewTokens = options.NewTokens,
            SharedPrefixTokens = shared,
            GenerateTokensPerSecond = generateRate,
            DecodeTokensPerSecond = options.Batch * (options.NewTokens - 1) / decodeSeconds,
            DecodeMsPerStep = stepMs,
            PrefillTokensPerSecond = Median(prefill),
            ReadBandwidthGBps = bandwidth,
            FloorMsPerStep = floorMs,
            StepOverFloor = stepMs / floorMs,
            PeakDeviceBytes = device.PeakAllocatedBytes,
            Memory = DeviceMemoryCheck.Measure(device, Prediction(lm, options)),
            KvPoolBytes = backend.KvPoolBytes,
            ScratchBytes = lm.WorkspaceBytes,
            TransformersTokensPerSecond = options.ReferenceTokensPerSecond,
            TransformersPeakBytes = options.ReferencePeakBytes,
            SpeedupOverTransformers = generateRate / options.ReferenceTokensPerSecond,
            GraphsCaptured = graphsCaptured,
            GraphFailure = backend.GraphFailure,
            StepProfileMs = profile.OrderByDescending(p => p.Value.Ms).ToDictionary(p => $"{p.Key} ×{p.Value.Count}", p => p.Value.Ms),
        };
    }

    // Random prompts; with a shared prefix every one begins with the first one's tokens.
    private static int[][] Prompts(CausalLM lm, CudaBatchBenchmarkOptions options, Random random)
    {
        var prompts = Enumerable.Range(0, options.Batch)
            .Select(_ => Enumerable.Range(0, options.PromptTokens).Select(_ => random.Next(lm.VocabSize)).ToArray()).ToArray();
        foreach (var p in prompts.Skip(1)) prompts[0].AsSpan(0, options.SharedPrefixTokens).CopyTo(p);
        return prompts;
    }

    // Prefills every prompt (whole prompts stacked into steps of at most PrefillRowsPerStep rows) and returns the caches and
    // each one's first generated token. With a shared prefix the first prompt runs alone, then the others from shares of its cache.
    private static (KvCache[] Caches, int[] Next) Prefill(CausalLM lm, CudaBatchBenchmarkOptions options, int[][] prompts, int newTokens,
        CancellationToken cancellationToken)
    {
        int shared = options.SharedPrefixTokens, capacity = options.PromptTokens + newTokens;
        var caches = new KvCache[prompts.Length];
        var next = new int[prompts.Length];
        int start = 0;
        if (shared > 0)
        {
            caches[0] = lm.NewCache(capacity);
            next[0] = lm.GreedyNext([new Segment(caches[0], prompts[0])], cancellationToken)[0];
            for (int i = 1; i < prompts.Length; i++) caches[i] = caches[0].SharePrefix(shared, capacity);
            start = 1;
        }
        else
            for (int i = 0; i < prompts.Length; i++) caches[i] = lm.NewCache(capacity);
        int rest = options.PromptTokens - shared, perStep = Math.Max(1, options.PrefillRowsPerStep / rest);
        for (int first = start; first < prompts.Length; first += perStep)
        {
            int count = Math.Min(perStep, prompts.Length - first);
            lm.GreedyNext(Enumerable.Range(first, count).Select(i => new Segment(caches[i], prompts[i][shared..])).ToList(), cancellationToken)
                .CopyTo(next, first);
        }
        return (caches, next);
    }

    /// <summary>
    /// The memory model's prediction for this run (the backend's layout): <see cref="CudaBatchBenchmarkOptions.Batch"/> sequences of
    /// prompt + new tokens in the paged pool (a shared prefix held once), and steps as large as the prefill's (as many whole
    /// prompts, or prompt rests after the shared prefix, as fit in <see cref="CudaBatchBenchmarkOptions.PrefillRowsPerStep"/> rows,
    /// at least one; the first prompt alone when a prefix is shared) or the decode's (one row per sequence).
    /// </summary>
    public static MemoryPrediction Prediction(CausalLM lm, CudaBatchBenchmarkOptions options)
    {
        int shared = options.SharedPrefixTokens, rest = options.PromptTokens - shared;
        int others = shared > 0 ? options.Batch - 1 : options.Batch;
        int prefill = Math.Min(others, Math.Max(1, options.PrefillRowsPerStep / rest)) * rest;
        int rows = Math.Max(options.Batch, Math.Max(prefill, shared > 0 ? options.PromptTokens : 0));
        return MemoryModel.Predict(lm.Config, MemoryScenario.ContinuousBatch(options.Batch, Math.Min(options.PromptTokens + options.NewTokens, lm.MaxContext),
            0, RuntimeProfile.EdgeLlmCuda, lm.Checkpoint.WeightBytes) with { StepRows = rows, WeightDType = MatrixDType(lm), SharedPrefixTokens = shared });
    }

    /// <summary>The dtype that holds most of the matrix bytes (what the GEMMs' input copies follow).</summary>
    internal static DType MatrixDType(CausalLM lm) => lm.Checkpoint.Tensors.Values.Where(t => t.Rank == 2)
        .GroupBy(t => t.DType).OrderByDescending(g => g.Sum(t => t.ByteLength)).Select(g => g.Key).DefaultIfEmpty(DType.F16).First();

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return 0;
        var s = values.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
