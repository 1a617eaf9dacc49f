using System.Text.Json.Nodes;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Analysis.Tables;
using Microsoft.Data.Analysis;

namespace EdgeLlm.Analysis.Charts;

/// <summary>The standard figures of pruning papers, drawn from a results store (or from the tables it returns).</summary>
public static class PaperFigures
{
    /// <summary>The phone budget of the challenge: 12 GB.</summary>
    public const double PhoneMemoryBytes = 12e9;

    /// <summary>Mean task accuracy against sparsity, one line per method (and per model when there are several).</summary>
    public static PlotlyFigure AccuracyVsSparsity(ResultsStore store) => AccuracyVsSparsity(store.TaskScores());

    public static PlotlyFigure AccuracyVsSparsity(DataFrame taskScores)
    {
        var mean = taskScores.Aggregate(["model", "method", "ratio"], Agg.Mean("score", "mean_score"));
        bool severalModels = mean.Distinct("model").Count > 1;
        return Charts.Line(mean, "ratio", "mean_score", "method", severalModels ? "model" : null, "Accuracy vs. sparsity")
            .AxisTitles("sparsity (fraction of parameters removed)", "mean accuracy over tasks");
    }

    /// <summary>Perplexity against pruning ratio, one line per method, one panel per data set; log y axis.</summary>
    public static PlotlyFigure PerplexityVsRatio(ResultsStore store) => PerplexityVsRatio(store.Perplexities());

    public static PlotlyFigure PerplexityVsRatio(DataFrame perplexities)
    {
        var figure = Charts.Line(perplexities, "ratio", "perplexity", "method", perplexities.Distinct("dataset").Count > 1 ? "dataset" : null, "Perplexity vs. pruning ratio");
        foreach (var axis in figure.Layout.Where(kv => kv.Key.StartsWith("yaxis")).Select(kv => kv.Value).OfType<JsonObject>()) axis["type"] = "log";
        return figure;
    }

    /// <summary>
    /// TPOT against parameter count, one colour per method, with the 12 GB line: the largest parameter count
    /// whose FP16 weights fit in 12 GB.
    /// </summary>
    public static PlotlyFigure TpotVsParameters(ResultsStore store, int bytesPerParameter = 2) => TpotVsParameters(store.Throughput(), bytesPerParameter);

    public static PlotlyFigure TpotVsParameters(DataFrame throughput, int bytesPerParameter = 2)
    {
        var figure = Charts.Scatter(throughput.Filter(r => !r.IsNull("parameters")), "parameters", "tpot_ms", "method", null, "TPOT vs. parameters")
            .AxisTitles("parameters", "TPOT (ms / token)");
        return figure.ReferenceLine(PhoneMemoryBytes / bytesPerParameter, vertical: true, $"12 GB ({(bytesPerParameter == 2 ? "FP16" : $"{bytesPerParameter} B/param")})");
    }

    /// <summary>Per-task scores, one bar group per task, one colour per run (model · method · ratio).</summary>
    public static PlotlyFigure TaskBars(DataFrame taskScores) =>
        Charts.Bar(Labelled(taskScores), "task", "score", "run", null, "Scores per task");

    /// <summary>Per-task radar: one closed polygon per run over the tasks.</summary>
    public static PlotlyFigure TaskRadar(DataFrame taskScores)
    {
        var labelled = Labelled(taskScores);
        var figure = new PlotlyFigure("Scores per task");
        var tasks = labelled.Distinct("task").Select(t => (string)t).ToList();
        int i = 0;
        foreach (var run in labelled.Distinct("run").Cast<string>())
        {
            var rows = labelled.Filter(r => r.GetString("run") == run);
            var r = tasks.Select(t => rows.Filter(x => x.GetString("task") == t).Rows.Select(x => (double?)x.GetDouble("score")).FirstOrDefault()).ToList();
            figure.AddTrace(new JsonObject
            {
                ["type"] = "scatterpolar", ["fill"] = "toself", ["name"] = run,
                ["r"] = new JsonArray(r.Append(r[0]).Select(v => v is null ? null : (JsonNode)JsonValue.Create(v.Value)).ToArray()),
                ["theta"] = new JsonArray(tasks.Append(tasks[0]).Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
                ["line"] = new JsonObject { ["color"] = Charts.Palette(i++) },
            });
        }
        return figure.Set("polar", new JsonObject { ["radialaxis"] = new JsonObject { ["visible"] = true } });
    }

    /// <summary>
    /// Phone TPOT against local TPOT per model variant (model, method, ratio), with the y = x diagonal. Phone logs are
    /// imported as runs of their own (<c>edgellm phone import --store</c>), so the two sides meet on the variant, not the run.
    /// </summary>
    public static PlotlyFigure PhoneVsLocal(ResultsStore store) => PhoneVsLocal(store.Throughput(), store.Phone());

    /// <summary>From the store's throughput and phone tables (or any with model, method, ratio and tpot_ms; phone also device).</summary>
    public static PlotlyFigure PhoneVsLocal(DataFrame throughput, DataFrame phone)
    {
        string[] variant = ["model", "method", "ratio"];
        var local = throughput.Aggregate(variant, Agg.Mean("tpot_ms", "local_tpot_ms"));
        var remote = phone.Aggregate([.. variant, "device"], Agg.Mean("tpot_ms", "phone_tpot_ms"));
        return PhoneVsLocal(local.JoinOn(remote, variant));
    }

    /// <summary>From a table with local_tpot_ms, phone_tpot_ms and device columns.</summary>
    public static PlotlyFigure PhoneVsLocal(DataFrame joined)
    {
        var figure = Charts.Scatter(joined, "local_tpot_ms", "phone_tpot_ms", "device", null, "Phone vs. local TPOT")
            .AxisTitles("local TPOT (ms / token)", "phone TPOT (ms / token)");
        var all = joined.Doubles("local_tpot_ms").Concat(joined.Doubles("phone_tpot_ms")).Where(double.IsFinite).ToList();
        if (all.Count > 0)
            figure.AddTrace(new JsonObject
            {
                ["type"] = "scatter", ["mode"] = "lines", ["name"] = "phone = local",
                ["x"] = new JsonArray(0.0, all.Max()), ["y"] = new JsonArray(0.0, all.Max()),
                ["line"] = new JsonObject { ["dash"] = "dot", ["color"] = "gray" },
            });
        return figure;
    }

    /// <summary>Every standard figure the store has data for, by file-friendly name.</summary>
    public static IReadOnlyDictionary<string, PlotlyFigure> All(ResultsStore store)
    {
        var figures = new Dictionary<string, PlotlyFigure>();
        var scores = store.TaskScores();
        if (scores.Rows.Count > 0)
        {
            figures["accuracy_vs_sparsity"] = AccuracyVsSparsity(scores);
            figures["task_bars"] = TaskBars(scores);
            figures["task_radar"] = TaskRadar(scores);
        }
        if (store.Perplexities().Rows.Count > 0) figures["perplexity_vs_ratio"] = PerplexityVsRatio(store);
        if (store.Throughput().Rows.Count > 0) figures["tpot_vs_parameters"] = TpotVsParameters(store);
        if (store.Phone().Rows.Count > 0 && store.Throughput().Rows.Count > 0) figures["phone_vs_local"] = PhoneVsLocal(store);
        return figures;
    }

    private static DataFrame Labelled(DataFrame taskScores) =>
        taskScores.WithColumn("run", r => $"{r.GetString("model")} · {r.GetString("method")} · {r.GetDouble("ratio"):0.##}");
}
