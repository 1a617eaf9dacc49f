using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EdgeLlm.Calibration;
using EdgeLlm.Checkpoints;
using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Profiling;
using EdgeLlm.Pruning;
using EvalRecord = EdgeLlm.Evaluation.SampleRecord;
using PhoneLog = EdgeLlm.Profiling.Phone.PhoneMeasurement;

namespace EdgeLlm.Analysis.Store;

/// <summary>
/// The one place where what the flow's stages return becomes rows of the results store: evaluation summaries and
/// sample records, benchmarks, pruning results, perplexities, phone logs and memory predictions. The commands'
/// <c>--store FILE</c> and the notebooks go through these, so a run looks the same however it was made.
/// </summary>
public static partial class StoreAdapters
{
    /// <summary>
    /// Who a model folder is: a pruned folder (with <c>pruning.json</c>) is its source model under the pruning
    /// method and ratio; any other folder or preset name is a dense model named after itself.
    /// </summary>
    public static RunInfo Identify(string modelOrPreset)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelOrPreset)));
        if (!Directory.Exists(modelOrPreset)) return new RunInfo(modelOrPreset, "dense", 0);
        string? architecture = null; long? parameters = null; string? dtype = null;
        // A folder of config and tokenizer only (scoring predictions made elsewhere: eval --mode eval) has no parameters to count.
        if (File.Exists(Path.Combine(modelOrPreset, Checkpoint.ConfigFile)) && EdgeLlm.Evaluation.Runs.ModelIdentity.HasWeights(modelOrPreset))
        {
            using var checkpoint = Checkpoint.Open(modelOrPreset);
            architecture = checkpoint.Config.ArchitectureName;
            parameters = checkpoint.ParameterCount;
            dtype = checkpoint.DType.ToTorchName();
        }
        var report = Path.Combine(modelOrPreset, "pruning.json");
        if (!File.Exists(report))
            return new RunInfo(name, "dense", 0) { Architecture = architecture, ParametersBefore = parameters, ParametersAfter = parameters, DType = dtype };
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(report)) as JsonObject ?? throw new FormatException("not a JSON object"); }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException)
        {
            throw new InvalidDataException($"{report}: not a pruning report ({e.Message})", e);
        }
        string source = json["source"]?.GetValue<string>() is { Length: > 0 } s ? Path.GetFileName(Path.TrimEndingDirectorySeparator(s)) : name;
        return new RunInfo(source, json["method"]?.GetValue<string>() ?? throw new InvalidDataException($"{report}: no \"method\""),
            json["ratio"]?.GetValue<double>() ?? throw new InvalidDataException($"{report}: no \"ratio\""))
        {
            Architecture = architecture, DType = dtype,
            ParametersBefore = json["parameters_before"]?.GetValue<long>() ?? parameters,
            ParametersAfter = json["parameters_after"]?.GetValue<long>() ?? parameters,
        };
    }

    // ---- evaluation ----

    /// <summary>A task's headline score (0–100, OpenCompass's) as metric "score"; subsets and extra metrics stay in the run folder's summary.json.</summary>
    public static TaskScore Score(TaskSummary summary) => new(summary.Task, "score", summary.Score, summary.Samples);

    /// <summary>
    /// One evaluated sample: the prediction is the post-processed answer (what was compared with the reference; the
    /// raw output stays in RUN_DIR/&lt;task&gt;.jsonl); correct is set for 0/1 scores, null for graded ones.
    /// </summary>
    public static StoredSample Sample(EvalRecord r) =>
        new(r.Task, r.Index, r.Prompt, r.Reference, r.Extracted, r.Score is 0 or 1 ? r.Score == 1 : null);

    /// <summary>An evaluation run: every task's summary and its samples (each task's records, one per sample).</summary>
    public static RunRecord EvaluationRun(RunInfo run, IEnumerable<(TaskSummary Summary, IReadOnlyList<EvalRecord> Records)> tasks)
    {
        var list = tasks.ToList();
        return new RunRecord(run)
        {
            Machine = MachineInfo.Current(),
            Scores = list.Select(t => Score(t.Summary)).ToList(),
            Samples = list.SelectMany(t => t.Records.Select(Sample)).ToList(),
        };
    }

    /// <summary>An evaluation run from the run folder: each task's summary with the folder's records for it (one per sample).</summary>
    public static RunRecord EvaluationRun(RunInfo run, RunDirectory runDirectory, IEnumerable<TaskSummary> summaries) =>
        EvaluationRun(run, summaries.Select(s => (s, (IReadOnlyList<EvalRecord>)EvaluationRunner.Dedupe(runDirectory.ReadRecordsOf(s.Task)))).ToList());

    // ---- benchmark and memory ----

    public static ThroughputRecord Throughput(BenchmarkResult b) =>
        new(b.PromptTokens, b.NewTokens, b.BatchSize, b.TpotMs, b.DecodeTokensPerSecond, b.PrefillTokensPerSecond, b.PeakRssBytes, b.KvCacheBytes);

    /// <summary>A benchmark's measured memory: peak RSS, the weights' bytes, and the KV cache it allocated.</summary>
    public static IReadOnlyList<MemoryRecord> Memory(BenchmarkResult b) =>
    [
        new("peak_rss", b.PeakRssBytes, false, "benchmark"),
        new("weights", b.WeightBytes, false, "checkpoint"),
        new("kv_cache", b.KvCacheBytes, true, "benchmark"),
    ];

    /// <summary>A local benchmark run, tagged with the machine and its measured limits.</summary>
    public static RunRecord BenchmarkRun(RunInfo run, BenchmarkResult b) => new(run with { ParametersAfter = run.ParametersAfter ?? b.Parameters })
    {
        Machine = MachineInfo.Current().With(b.Limits),
        Throughput = [Throughput(b)],
        Memory = Memory(b),
    };

    /// <summary>A memory prediction, part by part (predicted = true); source names the runtime, context and batch.</summary>
    public static IReadOnlyList<MemoryRecord> Memory(MemoryPrediction p)
    {
        var source = $"memory model: {p.Runtime}, context {p.Context}, batch {p.Batch}";
        return
        [
            new("weights", p.WeightBytes, true, source), new("kv_cache", p.KvCacheBytes, true, source),
            new("activations", p.ActivationBytes, true, source), new("workspace", p.WorkspaceBytes, true, source),
            new("overhead", p.OverheadBytes, true, source), new("total", p.TotalBytes, true, source),
        ];
    }

    public static RunRecord MemoryRun(RunInfo run, MemoryPrediction p, DeviceFit? fit = null) => new(run with
    {
        ParametersBefore = run.ParametersBefore ?? p.Parameters, ParametersAfter = run.ParametersAfter ?? p.Parameters,
        Notes = fit is null ? run.Notes : $"{fit.Device}: {(fit.Fits ? "fits" : "does not fit")} ({fit.Utilisation:P1} of {fit.UsableBytes} usable bytes)",
    })
    { Memory = Memory(p) };

    /// <summary>A measured memory probe (a fresh process filling the context): peak RSS measured, the model's prediction beside it.</summary>
    public static IReadOnlyList<MemoryRecord> Memory(MemoryProbeResult r)
    {
        var source = $"memory probe: context {r.Context}" + (r.DeviceMemory is null ? "" : $", {r.Device}, {r.Runtime}");
        List<MemoryRecord> records = [new("peak_rss", r.PeakRssBytes, false, source), new("total", r.PredictedBytes, true, source), new("weights", r.WeightBytes, false, source)];
        if (r.DeviceMemory is { } m)
            records.AddRange([new("peak_device_allocated", m.PeakAllocatedBytes, false, source), new("allocated", m.PredictedAllocatedBytes, true, source),
                new("device_used_at_peak", m.DriverUsedAtPeakBytes, false, source)]);
        return records;
    }

    // ---- pruning and perplexity ----

    /// <summary>
    /// A pruning run: source model, method, ratio, parameters before and after, the calibration used, and how many
    /// parameters each decoder layer kept (read from the two checkpoints; a removed layer keeps 0).
    /// </summary>
    public static RunRecord PruningRun(Checkpoint source, PruningResult result, PruningPlan plan, string? calibration = null, int? calibrationSamples = null)
    {
        using var pruned = Checkpoint.Open(result.Directory);
        var before = LayerParameters(source);
        var after = LayerParameters(pruned);
        var kept = Enumerable.Range(0, source.Config.NumLayers).Where(i => !plan.RemovedLayers.Contains(i)).ToList();
        var layers = before.OrderBy(kv => kv.Key).Select(kv =>
        {
            int target = kept.IndexOf(kv.Key);
            return new PrunedLayer($"layer.{kv.Key}", kv.Value, target < 0 ? 0 : after.GetValueOrDefault(target));
        }).ToList();
        long otherBefore = source.ParameterCount - before.Values.Sum(), otherAfter = pruned.ParameterCount - after.Values.Sum();
        layers.Add(new PrunedLayer("other", otherBefore, otherAfter));
        var run = new RunInfo(Path.GetFileName(Path.TrimEndingDirectorySeparator(source.Directory)), plan.Method.Name(), plan.Ratio)
        {
            Architecture = source.Config.ArchitectureName, DType = source.DType.ToTorchName(),
            ParametersBefore = result.ParametersBefore, ParametersAfter = result.ParametersAfter,
            Calibration = calibration, CalibrationSamples = calibrationSamples,
            Notes = $"pruned model in {Path.GetFullPath(result.Directory)}",
        };
        return new RunRecord(run) { Machine = MachineInfo.Current(), Layers = layers };
    }

    /// <summary>Float parameters per decoder layer index (tensors named <c>….layers.N.…</c> or <c>….h.N.…</c>).</summary>
    public static IReadOnlyDictionary<int, long> LayerParameters(Checkpoint checkpoint) =>
        checkpoint.Tensors.Values.Where(t => t.DType.IsFloat())
            .Select(t => (Match: LayerName().Match(t.Name), t.ElementCount)).Where(x => x.Match.Success)
            .GroupBy(x => int.Parse(x.Match.Groups[1].Value)).ToDictionary(g => g.Key, g => g.Sum(x => x.ElementCount));

    [GeneratedRegex(@"\.(?:layers|h)\.(\d+)\.")]
    private static partial Regex LayerName();

    public static PerplexityRecord Perplexity(string dataset, PerplexityResult r) => new(dataset, r.Perplexity, r.Tokens);

    /// <summary>A data set's name from its file: <c>c4-validation.00000-of-00008.json.gz</c> → <c>c4-validation.00000-of-00008</c>.</summary>
    public static string DatasetName(string path)
    {
        var name = Path.GetFileName(path);
        foreach (var ext in new[] { ".gz", ".jsonl", ".json", ".txt" })
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) name = name[..^ext.Length];
        return name;
    }

    // ---- phone ----

    /// <summary>
    /// A phone log record as a store row: backend is the log's format, log_file is FILE:LINE, new tokens are the
    /// completion tokens. Null when the log line gave no rate to derive TPOT from (e.g. "decode: N/A").
    /// </summary>
    public static PhoneRecord? Phone(PhoneLog m) => m.TpotMs is not { } tpot ? null
        : new PhoneRecord(m.Device, m.Format, tpot, m.PrefillTokensPerSecond, m.DecodeTokensPerSecond, null,
            $"{m.SourceFile}:{m.SourceLine}", m.PromptTokens, m.CompletionTokens);

    /// <summary>
    /// Phone records as runs: one per (model, run id), keyed <c>phone:RUN_ID</c>, method and ratio as given (the
    /// log cannot tell). Records with no TPOT are left out, and so is a run left with none.
    /// </summary>
    public static IReadOnlyList<RunRecord> PhoneRuns(IEnumerable<PhoneLog> records, string method = "dense", double ratio = 0) =>
        records.GroupBy(r => (r.Model, r.RunId)).Select(g => new RunRecord(new RunInfo(g.Key.Model, method, ratio)
        {
            Key = $"phone:{g.Key.RunId}", StartedUtc = g.Min(r => r.ImportedAt).UtcDateTime,
        })
        { Phone = g.Select(Phone).OfType<PhoneRecord>().ToList() }).Where(r => r.Phone.Count > 0).ToList();
}
