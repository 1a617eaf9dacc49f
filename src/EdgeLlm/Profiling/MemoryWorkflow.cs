using EdgeLlm.Checkpoints;

namespace EdgeLlm.Profiling;

/// <summary>A memory question: context and batch, the device and runtime, and the dtypes (null weight dtype: the folder's stored bytes).</summary>
public sealed record MemoryQuery
{
    public int Context { get; init; } = 4096;
    public int Batch { get; init; } = 1;
    public required DeviceProfile Device { get; init; }
    public RuntimeProfile Runtime { get; init; } = RuntimeProfile.MlcLlmAndroid;
    /// <summary>Weights as this dtype; null: the bytes the folder stores (F16 for a preset).</summary>
    public DType? WeightDType { get; init; }
    /// <summary>K/V element type; null: the runtime's.</summary>
    public DType? KvDType { get; init; }
}

/// <summary>The prediction for one model, whether it fits the device, and the bandwidth-bound decode time there.</summary>
public sealed record MemoryReport(string Model, MemoryPrediction Prediction, DeviceFit Fit, TpotEstimate TpotEstimate);

/// <summary>What <c>edgellm memory</c> runs: predict for a model folder or preset, or check the model against measured peaks.</summary>
public static class MemoryWorkflow
{
    /// <summary>Predicts for a model folder or a preset name (<see cref="ModelPresets.Names"/>).</summary>
    public static MemoryReport Predict(string modelOrPreset, MemoryQuery query)
    {
        var (config, stored) = LoadConfig(modelOrPreset);
        var scenario = new MemoryScenario
        {
            Context = query.Context, Batch = query.Batch, Runtime = query.Runtime,
            WeightBytes = query.WeightDType == null ? stored : null,
            WeightDType = query.WeightDType ?? DType.F16,
            KvDType = query.KvDType,
        };
        var prediction = MemoryModel.Predict(config, scenario);
        var fit = MemoryModel.Fit(prediction, query.Device);
        var tpot = TpotEstimator.Estimate(config, query.Device, scenario.Context, scenario.WeightDType, scenario.KvDType ?? query.Runtime.KvDType);
        return new MemoryReport(modelOrPreset, prediction, fit, tpot);
    }

    private static (ModelConfig Config, long? StoredBytes) LoadConfig(string name)
    {
        if (Directory.Exists(name))
        {
            using var checkpoint = Checkpoint.Open(name);
            return (checkpoint.Config, checkpoint.WeightBytes);
        }
        if (ModelPresets.Names.Contains(name)) return (ModelConfig.Parse(ModelPresets.Config(name), name), null);
        throw new ArgumentException($"'{name}' is neither a model folder nor a preset ({string.Join(", ", ModelPresets.Names)}).");
    }

    /// <summary>
    /// Writes random checkpoints like <paramref name="like"/> with each layer count and measures each context's peak with
    /// <paramref name="probe"/> (folder, context → result), which should run in a fresh process so one case's freed memory
    /// never counts in the next's peak (the CLI starts itself with <c>memory --probe</c>).
    /// </summary>
    public static IReadOnlyList<MemoryProbeResult> Validate(string like, IReadOnlyList<int> layerCounts, IReadOnlyList<int> contexts,
        Func<string, int, MemoryProbeResult> probe, IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var rows = new List<MemoryProbeResult>();
        var root = Path.Combine(Path.GetTempPath(), $"edgellm-memory-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            foreach (var n in layerCounts)
            {
                var dir = Path.Combine(root, $"{like}-{n}l");
                RandomCheckpoint.Create(ModelPresets.Config(like), dir, DType.F16, n);
                foreach (var context in contexts)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    rows.Add(probe(dir, context));
                    progress?.Report(new StageProgress("memory probes", rows.Count, layerCounts.Count * contexts.Count, "probes"));
                }
            }
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, recursive: true); }
        return rows;
    }
}
