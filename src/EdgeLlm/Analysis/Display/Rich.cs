using System.Globalization;
using EdgeLlm.Analysis.Charts;
using EdgeLlm.Analysis.Tables;
using EdgeLlm.Evaluation.Workflows;
using EdgeLlm.Inference;
using EdgeLlm.Profiling;
using EdgeLlm.Pruning;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Analysis.Display;

/// <summary>
/// Rich display of EdgeLlm's types: <see cref="Html"/> for notebooks, <see cref="Text"/> for terminals. .NET
/// Interactive shows them through <see cref="NotebookFormats"/>. Types from other parts of the library (models,
/// tokenizers, benchmark results, memory predictions, pruning plans, evaluation results) display through <see cref="Card"/>.
/// </summary>
public static class Rich
{
    public static string Html(object? value) => value switch
    {
        null => "<i>null</i>",
        Microsoft.Data.Analysis.DataFrame d => d.ToHtml(),
        PlotlyFigure f => FigureImage.Html(f),
        DisplayCard c => c.ToHtml(),
        _ when WithTable(value) is { } pair => pair.Card.ToHtml() + pair.Table.ToHtml(),
        _ when Card(value) is { } card => card.ToHtml(),
        _ => "<pre>" + System.Net.WebUtility.HtmlEncode(Text(value)) + "</pre>",
    };

    public static string Text(object? value) => value switch
    {
        null => "null",
        Microsoft.Data.Analysis.DataFrame d => d.ToText(),
        PlotlyFigure f => f.ToString(),
        DisplayCard c => c.ToText(),
        _ when WithTable(value) is { } pair => pair.Card.ToText() + Environment.NewLine + pair.Table.ToText(),
        _ when Card(value) is { } card => card.ToText(),
        _ => value.ToString() ?? "",
    };


    /// <summary>Results that are a card over a table: an evaluation (the run, then one row per task), a memory report
    /// (the fit, then the parts), a prune (the plan's outcome, then one row per layer).</summary>
    public static (DisplayCard Card, Microsoft.Data.Analysis.DataFrame Table)? WithTable(object value) => value switch
    {
        EvaluationSummary s => (EvaluationCard(s, null), s.ToDataFrame()),
        EvaluationOutcome o => (EvaluationCard(o.Summary, o.Run.Root), o.ToDataFrame()),
        MemoryReport r => (MemoryReportCard(r), r.ToDataFrame()),
        PruneOutcome o => (PruneCard(o), o.ToDataFrame()),
        _ => null,
    };

    public static DisplayCard EvaluationCard(EvaluationSummary s, string? runFolder) => new($"Evaluation of {s.Model}",
    [
        new("protocol", $"{s.Protocol} ({s.PromptStyle}{(s.ChatTemplate is { } t ? ", chat template " + t : "")})"),
        new("shard", s.Shard), new("limit", s.Limit?.ToString(CultureInfo.InvariantCulture) ?? "none"),
        new("tasks", s.Tasks.Count.ToString(CultureInfo.InvariantCulture)),
        .. runFolder is null ? Array.Empty<KeyValuePair<string, string>>() : [new("run folder", runFolder)],
    ]);

    public static DisplayCard MemoryReportCard(MemoryReport r) => new($"Memory of {r.Model} on {r.Fit.Device}",
    [
        new("total", $"{Bytes(r.Prediction.TotalBytes)} ({r.Prediction.Runtime}, context {r.Prediction.Context}, batch {r.Prediction.Batch})"),
        new("fits", r.Fit.Fits ? $"yes, margin {Bytes(r.Fit.MarginBytes)} ({r.Fit.Utilisation:P1} of {Bytes(r.Fit.UsableBytes)})"
            : $"no, over by {Bytes(-r.Fit.MarginBytes)} ({r.Fit.Utilisation:P1} of {Bytes(r.Fit.UsableBytes)})"),
        new("decode floor", $"{r.TpotEstimate.TpotMs:F1} ms/token ({r.TpotEstimate.TokensPerSecond:F1} tokens/s at most)"),
    ]);

    public static DisplayCard PruneCard(PruneOutcome o)
    {
        var r = o.Result;
        return new DisplayCard($"Pruned {o.Plan.Method.Name()} at {o.Ratio.ToString("0.###", CultureInfo.InvariantCulture)}",
        [
            new("parameters", $"{Count(r.ParametersBefore)} → {Count(r.ParametersAfter)}"),
            new("layers", r.Layers.ToString(CultureInfo.InvariantCulture)),
            new("widths", r.UniformShapes ? $"{r.KvHeads} KV heads, MLP {r.IntermediateSize}" : "per layer (EdgeLlm loads it; stock loaders do not)"),
            new("folder", r.Directory),
        ]);
    }

    /// <summary>A card for library objects: model summary, benchmark result, and any EdgeLlm record whose name ends in Report or Result.</summary>
    public static DisplayCard? Card(object value) => value switch
    {
        CausalLM m => ModelSummary(m),
        ITokenizer t => TokenizerCard(t),
        BenchmarkResult b => BenchmarkCard(b),
        MemoryPrediction p => MemoryCard(p),
        PruningPlan p => PlanCard(p),
        DeviceFit f => DisplayCard.FromProperties($"Fit on {f.Device}", f),
        _ when value.GetType().Namespace?.StartsWith("EdgeLlm") == true
               && (value.GetType().Name.EndsWith("Report") || value.GetType().Name.EndsWith("Result") || value.GetType().Name.EndsWith("Measurement") || value.GetType().Name.EndsWith("Summary"))
            => DisplayCard.FromProperties(Words(value.GetType().Name), value),
        _ => null,
    };

    public static DisplayCard ModelSummary(CausalLM model)
    {
        var c = model.Config;
        return new DisplayCard($"Model {Path.GetFileName(model.Checkpoint.Directory)}",
        [
            new("architecture", c.ArchitectureName), new("parameters", Count(model.Checkpoint.ParameterCount)),
            new("weights", Bytes(model.Checkpoint.WeightBytes)), new("dtype", model.Checkpoint.DType.ToString()),
            new("layers", c.NumLayers.ToString()), new("hidden size", c.HiddenSize.ToString()),
            new("heads / kv heads", $"{c.NumHeads} / {c.NumKvHeads}"), new("vocabulary", c.VocabSize.ToString()),
            new("fits 12 GB (weights)", model.Checkpoint.WeightBytes < PaperFigures.PhoneMemoryBytes ? "yes" : "no"),
        ]);
    }

    public static DisplayCard BenchmarkCard(BenchmarkResult b) => new($"Benchmark {b.Model}",
    [
        new("TPOT", $"{b.TpotMs:F2} ms (p10 {b.TpotMsP10:F2}, p90 {b.TpotMsP90:F2})"),
        new("decode", $"{b.DecodeTokensPerSecond:F1} tokens/s ({b.DecodeMsPerStep:F2} ms/step, {b.TpotOverFloor:F2}× the bandwidth floor)"),
        new("prefill", $"{b.PrefillTokensPerSecond:F1} tokens/s ({b.PrefillGflops:F1} GFLOP/s)"),
        new("parameters", Count(b.Parameters)), new("weights", Bytes(b.WeightBytes)),
        new("peak RSS", Bytes(b.PeakRssBytes)), new("KV cache", Bytes(b.KvCacheBytes)),
        new("shape", $"batch {b.BatchSize}, prompt {b.PromptTokens}, new {b.NewTokens}, {b.Repeats} repeats"),
    ]);

    public static DisplayCard TokenizerCard(ITokenizer t)
    {
        var special = t.SpecialTokens;
        string Token(int? id) => id is { } i ? $"{t.TokenToString(i)} ({i})" : "none";
        return new DisplayCard($"Tokenizer {t.GetType().Name}",
        [
            new("vocabulary", t.VocabSize.ToString(CultureInfo.InvariantCulture)),
            new("BOS", Token(t.BosTokenId) + (t.AddBosToken ? ", prepended" : "")), new("EOS", Token(t.EosTokenId)),
            new("special tokens", special.Count <= 6 ? string.Join(" ", special) : $"{string.Join(" ", special.Take(6))} ... ({special.Count})"),
        ]);
    }

    public static DisplayCard MemoryCard(MemoryPrediction p) => new($"Memory prediction ({p.Runtime}, context {p.Context}, batch {p.Batch})",
    [
        new("total", Bytes(p.TotalBytes)), new("weights", $"{Bytes(p.WeightBytes)} ({p.WeightDType}, {Count(p.Parameters)} parameters)"),
        new("KV cache", $"{Bytes(p.KvCacheBytes)} ({p.KvDType})"),
        new("activations", $"{Bytes(p.ActivationBytes)} ({p.ActivationDType}, {p.ActivationRows} rows)"), new("workspace", Bytes(p.WorkspaceBytes)),
        new("runtime overhead", Bytes(p.OverheadBytes)),
    ]);

    /// <summary>A plan as widths, not index lists: kept KV heads and MLP channels per layer, summarised.</summary>
    public static DisplayCard PlanCard(PruningPlan p)
    {
        static string Widths(int[][] kept) => kept.Length == 0 ? "none"
            : kept.Select(k => k.Length).Distinct().Count() == 1 ? $"{kept[0].Length} in each of {kept.Length} layers"
            : $"{kept.Min(k => k.Length)}–{kept.Max(k => k.Length)} per layer ({kept.Length} layers)";
        return new DisplayCard($"Pruning plan {p.Method.Name()} at {p.Ratio.ToString("0.###", CultureInfo.InvariantCulture)}",
        [
            new("structure", p.Structure.Name()), new("kept KV heads", Widths(p.KeptKvHeads)), new("kept MLP channels", Widths(p.KeptChannels)),
            new("removed layers", p.RemovedLayers.Length == 0 ? "none" : string.Join(", ", p.RemovedLayers)),
            new("bias compensation", p.AttentionBiasCompensation is null && p.MlpBiasCompensation is null ? "no" : "yes (FLAP)"),
            new("notes", p.Notes.Count.ToString(CultureInfo.InvariantCulture)),
        ]);
    }

    internal static string Scalar(object v, string name) => v switch
    {
        long l when name.EndsWith("Bytes") => Bytes(l),
        double d => d.ToString("0.####", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        _ => $"{bytes / 1024.0:F1} KiB",
    };

    public static string Count(long n) => n switch
    {
        >= 1_000_000_000 => $"{n / 1e9:F2} B",
        >= 1_000_000 => $"{n / 1e6:F1} M",
        _ => n.ToString("N0", CultureInfo.InvariantCulture),
    };

    private static string Words(string name) => System.Text.RegularExpressions.Regex.Replace(name, "(?<=[a-z])(?=[A-Z])", " ");
}
