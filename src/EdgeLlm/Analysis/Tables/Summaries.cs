using EdgeLlm.Evaluation.Workflows;
using EdgeLlm.Profiling;
using EdgeLlm.Pruning;
using Microsoft.Data.Analysis;

namespace EdgeLlm.Analysis.Tables;

/// <summary>
/// The summaries of <c>eval</c>, <c>bench</c>, <c>memory</c> and <c>prune</c> as DataFrames, the same tables the
/// command line prints and notebooks display, group and plot.
/// </summary>
public static class Summaries
{
    /// <summary>One row per task: task, config, score (OpenCompass's headline), samples, new_samples, skipped, samples_per_second.</summary>
    public static DataFrame ToDataFrame(this EvaluationSummary summary)
    {
        var tasks = summary.Tasks.ToList();
        return new DataFrame(
            new StringDataFrameColumn("task", tasks.Select(t => t.Key)),
            new StringDataFrameColumn("config", tasks.Select(t => t.Value.Config)),
            new DoubleDataFrameColumn("score", tasks.Select(t => t.Value.Score)),
            new Int64DataFrameColumn("samples", tasks.Select(t => (long)t.Value.Samples)),
            new Int64DataFrameColumn("new_samples", tasks.Select(t => (long)t.Value.NewSamples)),
            new Int64DataFrameColumn("skipped", tasks.Select(t => (long)t.Value.Skipped)),
            new DoubleDataFrameColumn("samples_per_second", tasks.Select(t => t.Value.SamplesPerSecond)));
    }

    public static DataFrame ToDataFrame(this EvaluationOutcome outcome) => outcome.Summary.ToDataFrame();

    /// <summary>One row per benchmark: every scalar of <see cref="BenchmarkResult"/> (model, TPOT, rates, bytes, shape).</summary>
    public static DataFrame ToDataFrame(this IEnumerable<BenchmarkResult> results) => DataFrames.FromRecords(results);

    /// <summary>One row per part of the prediction: part (weights, kv_cache, activations, workspace, overhead, total), bytes, dtype.</summary>
    public static DataFrame ToDataFrame(this MemoryPrediction p) => new(
        new StringDataFrameColumn("part", ["weights", "kv_cache", "activations", "workspace", "overhead", "total"]),
        new Int64DataFrameColumn("bytes", [p.WeightBytes, p.KvCacheBytes, p.ActivationBytes, p.WorkspaceBytes, p.OverheadBytes, p.TotalBytes]),
        new StringDataFrameColumn("dtype", [p.WeightDType, p.KvDType, p.ActivationDType, null, null, null]));

    /// <summary>The prediction's parts (<see cref="ToDataFrame(MemoryPrediction)"/>).</summary>
    public static DataFrame ToDataFrame(this MemoryReport report) => report.Prediction.ToDataFrame();

    /// <summary>One row per memory probe: model, layers, context, predicted and measured bytes, their ratio.</summary>
    public static DataFrame ToDataFrame(this IEnumerable<MemoryProbeResult> probes) => DataFrames.FromRecords(probes);

    /// <summary>One row per decoder layer (<c>layer.N</c>) plus <c>other</c>: parameters before and after, and the fraction kept.</summary>
    public static DataFrame ToDataFrame(this PruneOutcome outcome)
    {
        var layers = outcome.Run.Layers;
        return new DataFrame(
            new StringDataFrameColumn("name", layers.Select(l => l.Name)),
            new Int64DataFrameColumn("parameters_before", layers.Select(l => l.ParametersBefore)),
            new Int64DataFrameColumn("parameters_after", layers.Select(l => l.ParametersAfter)),
            new DoubleDataFrameColumn("kept", layers.Select(l => l.ParametersBefore == 0 ? (double?)null : (double)l.ParametersAfter / l.ParametersBefore)));
    }
}
