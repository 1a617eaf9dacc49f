using System.Net;
using System.Runtime.CompilerServices;
using EdgeLlm.Analysis.Charts;

namespace EdgeLlm.Analysis.Display;

/// <summary>
/// A figure's PNG for notebook outputs, drawn once per figure object by headless Chromium (<see cref="FigureRenderer"/>).
/// Without Chromium, or when plotly.js reports errors, there is no image and the caller falls back to text.
/// </summary>
public static class FigureImage
{
    private static readonly ConditionalWeakTable<PlotlyFigure, string> cache = new();

    /// <summary>The PNG in base64 (what a Jupyter image/png output holds), or null when it cannot be drawn here.</summary>
    public static string? PngBase64(PlotlyFigure figure)
    {
        if (cache.TryGetValue(figure, out var cached)) return cached;
        try { FigureRenderer.LocateChromium(); }
        catch (FileNotFoundException) { return null; }
        var result = FigureRenderer.Render(figure, "png");
        if (result.JavaScriptErrors.Count > 0 || result.Image.Length == 0) return null;
        var png = Convert.ToBase64String(result.Image);
        cache.AddOrUpdate(figure, png);
        return png;
    }

    /// <summary>An &lt;img&gt; of the PNG (no script, so any HTML viewer shows it), or the figure's text in &lt;pre&gt;.</summary>
    public static string Html(PlotlyFigure figure) => PngBase64(figure) is { } png
        ? $"<img src=\"data:image/png;base64,{png}\" alt=\"{WebUtility.HtmlEncode(figure.Title ?? "figure")}\"/>"
        : "<pre>" + WebUtility.HtmlEncode(figure.ToString()) + "</pre>";
}
