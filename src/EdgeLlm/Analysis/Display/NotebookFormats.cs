using EdgeLlm.Analysis.Charts;
using EdgeLlm.Calibration;
using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Evaluation.Workflows;
using EdgeLlm.Inference.Backends.Cuda;
using EdgeLlm.Inference;
using EdgeLlm.Profiling;
using EdgeLlm.Pruning;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Analysis.Display;

/// <summary>One formatter for .NET Interactive: how to show values of <see cref="Type"/> as <see cref="MimeType"/>
/// (null from <see cref="Render"/>: not available here, e.g. a PNG without Chromium).</summary>
public sealed record NotebookFormat(Type Type, string MimeType, Func<object, string?> Render);

/// <summary>
/// The display of every EdgeLlm type a notebook shows. The package's <c>interactive-extensions/dotnet/extension.dib</c>
/// hands these to .NET Interactive's <c>Formatter.Register</c> and <c>Formatter.SetPreferredMimeTypesFor</c>
/// (<see cref="RegisterWith"/>) when <c>#r "nuget: EdgeLlm"</c> loads it, so the library itself needs no .NET Interactive package. Tables and cards are
/// compact text/html and text/plain; figures are image/png (for GitHub and nbviewer) plus Plotly's own JSON mime type
/// (JupyterLab draws it interactively with its own plotly.js, so no output embeds plotly.js).
/// </summary>
public static class NotebookFormats
{
    public const string PlotlyMimeType = "application/vnd.plotly.v1+json";

    public static IReadOnlyList<Type> Types { get; } =
    [
        typeof(CausalLM), typeof(ITokenizer), typeof(BenchmarkResult), typeof(CudaBenchmarkResult), typeof(TokenizerBenchmarkResult),
        typeof(MemoryPrediction), typeof(DeviceFit), typeof(MemoryReport), typeof(PruningPlan), typeof(PruningResult), typeof(PruneOutcome),
        typeof(PerplexityResult), typeof(TaskSummary), typeof(TaskRunResult), typeof(EvaluationSummary), typeof(EvaluationOutcome),
        typeof(Microsoft.Data.Analysis.DataFrame), typeof(DisplayCard), typeof(PlotlyFigure),
    ];

    /// <summary>The outputs a value of the type gets, richest first.</summary>
    public static IReadOnlyList<string> MimeTypesOf(Type type) =>
        typeof(PlotlyFigure).IsAssignableFrom(type) ? ["image/png", PlotlyMimeType, "text/plain"] : ["text/html", "text/plain"];

    public static IEnumerable<NotebookFormat> All =>
        Types.SelectMany(type => MimeTypesOf(type).Select(mime => new NotebookFormat(type, mime, value => Render(value, mime))));

    /// <summary>Hands every format to a formatter registry: <paramref name="register"/> (type, mime type, render) and
    /// <paramref name="setPreferredMimeTypes"/> (type, mime types). extension.dib calls it with .NET Interactive's
    /// Formatter; it takes only BCL delegates so a C# or F# kernel can call it by reflection.</summary>
    public static void RegisterWith(Action<Type, string, Func<object, string?>> register, Action<Type, string[]> setPreferredMimeTypes)
    {
        foreach (var format in All) register(format.Type, format.MimeType, format.Render);
        foreach (var type in Types) setPreferredMimeTypes(type, [.. MimeTypesOf(type)]);
    }

    public static string? Render(object value, string mimeType) => (mimeType, value) switch
    {
        ("text/html", _) => Rich.Html(value),
        ("text/plain", _) => Rich.Text(value),
        ("image/png", PlotlyFigure f) => FigureImage.PngBase64(f),
        (PlotlyMimeType, PlotlyFigure f) => f.ToJson(),
        _ => null,
    };
}
