using System.Globalization;
using EdgeLlm.Analysis.Charts;
using EdgeLlm.Analysis.Tables;
using EdgeLlm.Inference;
using EdgeLlm.Profiling;

namespace EdgeLlm.Analysis.Display;

/// <summary>
/// Rich display of EdgeLlm's types: <see cref="Html"/> for notebooks, <see cref="Text"/> for terminals. Used by the
/// .NET Interactive convention formatters and by <c>edgellm notebook run</c>. Types from other parts of the library
/// (benchmark results, models, pruning reports, evaluation results) display through <see cref="Card"/>.
/// </summary>
public static class Rich
{
    public static string Html(object? value) => value switch
    {
        null => "<i>null</i>",
        ResultTable t => t.ToHtml(),
        PlotlyFigure f => f.ToNotebookHtml(),
        DisplayCard c => c.ToHtml(),
        _ when Card(value) is { } card => card.ToHtml(),
        _ => "<pre>" + System.Net.WebUtility.HtmlEncode(Text(value)) + "</pre>",
    };

    public static string Text(object? value) => value switch
    {
        null => "null",
        ResultTable t => t.ToText(),
        PlotlyFigure f => f.ToString(),
        DisplayCard c => c.ToText(),
        _ when Card(value) is { } card => card.ToText(),
        _ => value.ToString() ?? "",
    };

    /// <summary>Whether <see cref="Html"/> has a rich form for the value (otherwise it is plain text in a &lt;pre&gt;).</summary>
    public static bool HasRichForm(object? value) => value is ResultTable or PlotlyFigure or DisplayCard || (value is not null && Card(value) is not null);

    /// <summary>A card for library objects: model summary, benchmark result, and any EdgeLlm record whose name ends in Report or Result.</summary>
    public static DisplayCard? Card(object value) => value switch
    {
        CausalLM m => ModelSummary(m),
        BenchmarkResult b => BenchmarkCard(b),
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
