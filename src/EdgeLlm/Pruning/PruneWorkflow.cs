using EdgeLlm.Analysis.Store;
using EdgeLlm.Calibration;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;

namespace EdgeLlm.Pruning;

/// <summary>What to prune and how: the model, the method, the ratio or a budget it is derived from, and the calibration.</summary>
public sealed record PruneRequest
{
    /// <summary>The model folder.</summary>
    public required string Model { get; init; }
    /// <summary>The folder the pruned checkpoint is written to.</summary>
    public required string Output { get; init; }
    public required PruningMethod Method { get; init; }
    /// <summary>The ratio; null: the smallest one that meets <see cref="Budget"/>.</summary>
    public double? Ratio { get; init; }
    public PruningBudget? Budget { get; init; }
    public PruningStructure Structure { get; init; } = PruningStructure.Uniform;
    public bool BiasCompensation { get; init; } = true;
    /// <summary>Statistics from an earlier calibration (<c>edgellm calibrate</c>); wins over <see cref="CalibrationData"/>.</summary>
    public string? StatisticsFile { get; init; }
    /// <summary>Text to calibrate on here when no <see cref="StatisticsFile"/> is given.</summary>
    public CalibrationData? CalibrationData { get; init; }
    /// <summary>Token ids to write EdgeLlm's logits of the pruned model for (tools/reference/check_pruned.py); null: none.</summary>
    public int[]? CheckTokens { get; init; }
}

/// <summary>What <see cref="PruneWorkflow.Run"/> did.</summary>
/// <param name="Run">The results-store record of this pruning (add it with <c>ResultsStore.AddRun</c>).</param>
/// <param name="CheckFile">The logits file written for <see cref="PruneRequest.CheckTokens"/>, or null.</param>
public sealed record PruneOutcome(PruningResult Result, PruningPlan Plan, double Ratio, RunRecord Run, string? CheckFile);

/// <summary>Calibrate-or-load, then plan and write the pruned checkpoint: what <c>edgellm prune</c> runs.</summary>
public static class PruneWorkflow
{
    /// <summary>The ratio the request gives, or the smallest one meeting its budget (exactly one of the two).</summary>
    public static double ResolveRatio(PruneRequest request, ModelConfig config)
    {
        if (request.Structure == PruningStructure.Global && request.Ratio == null)
            throw new ArgumentException("The global structure takes a ratio (the budgets predict uniform shapes).");
        return (request.Ratio, request.Budget) switch
        {
            ({ } r, null) => r,
            (null, { } b) => PruningShape.RatioFor(config, request.Method, b, request.BiasCompensation),
            (null, null) => throw new ArgumentException("Give a ratio or one budget."),
            _ => throw new ArgumentException("Give a ratio or one budget, not both."),
        };
    }

    /// <summary>Runs the prune; <paramref name="progress"/> gets the stages "calibration" (samples, when it calibrates here),
    /// "scoring" (layers) and "writing" (bytes of tensor data).</summary>
    public static PruneOutcome Run(PruneRequest request, IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var source = Checkpoint.Open(request.Model);
        double ratio = ResolveRatio(request, source.Config);
        var (statistics, note, dataset, samples) = Calibrate(request, progress, cancellationToken);
        var plan = StructuredPruner.Plan(source, request.Method, ratio, statistics, request.BiasCompensation, progress, cancellationToken, request.Structure);
        var result = PrunedCheckpointWriter.Save(source, plan, request.Output, note, progress: progress);
        var run = StoreAdapters.PruningRun(source, result, plan, dataset, samples);
        string? check = request.CheckTokens is { } ids ? PruningCheck.Write(request.Output, ids, cancellationToken) : null;
        return new PruneOutcome(result, plan, ratio, run, check);
    }

    private static (CalibrationStatistics? Statistics, string? Note, string? Dataset, int? Samples) Calibrate(
        PruneRequest request, IProgress<StageProgress>? progress, CancellationToken cancellationToken)
    {
        if (!request.Method.NeedsCalibration()) return (null, null, null, null);
        if (request.StatisticsFile is { } path)
        {
            var loaded = CalibrationStatistics.Load(path);
            return (loaded, $"{path} ({loaded.SamplesDone} samples, {loaded.Fingerprint})", Path.GetFileName(path), loaded.SamplesDone);
        }
        if (request.CalibrationData is not { } data)
            throw new ArgumentException($"{request.Method.Name()} needs calibration: give a statistics file or calibration data.");
        using var model = CausalLM.Load(request.Model);
        var windows = data.Sample(request.Model, cancellationToken);
        var statistics = Calibrator.Run(model, windows,
            progress: progress == null ? null : new InlineProgress<CalibrationProgress>(p => progress.Report(new("calibration", p.SamplesDone, p.SamplesTotal, "samples"))),
            cancellationToken: cancellationToken);
        return (statistics, data.Describe(windows.Count), StoreAdapters.DatasetName(data.Path), windows.Count);
    }

    /// <summary>Passes reports on synchronously (Progress&lt;T&gt; would post them to the thread pool, out of order).</summary>
}
