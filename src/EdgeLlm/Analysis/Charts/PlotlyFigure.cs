using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Analysis.Charts;

/// <summary>
/// A Plotly figure in Plotly's own JSON format, <c>{"data": [traces], "layout": {...}}</c>, built by hand so it
/// needs no Plotly package: save it as JSON, as self-contained offline HTML (plotly.js embedded or beside the file),
/// or as PNG/SVG through headless Chromium (<see cref="FigureRenderer"/>).
/// </summary>
public sealed class PlotlyFigure
{
    public List<JsonObject> Data { get; } = [];
    public JsonObject Layout { get; }

    public PlotlyFigure(string? title = null)
    {
        Layout = new JsonObject();
        if (title is not null) Layout["title"] = new JsonObject { ["text"] = title };
    }

    public string? Title => Layout["title"]?["text"]?.GetValue<string>();

    public PlotlyFigure AddTrace(JsonObject trace) { Data.Add(trace); return this; }

    /// <summary>Sets a layout property, e.g. <c>fig.Set("xaxis", new JsonObject { ["title"] = ... })</c>.</summary>
    public PlotlyFigure Set(string key, JsonNode? value) { Layout[key] = value; return this; }

    public PlotlyFigure AxisTitles(string x, string y, string axisSuffix = "")
    {
        Axis("xaxis" + axisSuffix)["title"] = new JsonObject { ["text"] = x };
        Axis("yaxis" + axisSuffix)["title"] = new JsonObject { ["text"] = y };
        return this;
    }

    internal JsonObject Axis(string name) => Layout[name] as JsonObject ?? (JsonObject)(Layout[name] = new JsonObject());

    /// <summary>A dashed reference line across the plot at x (vertical) or y (horizontal), with a label.</summary>
    public PlotlyFigure ReferenceLine(double at, bool vertical, string label)
    {
        var shapes = Layout["shapes"] as JsonArray ?? (JsonArray)(Layout["shapes"] = new JsonArray());
        shapes.Add(vertical
            ? new JsonObject { ["type"] = "line", ["xref"] = "x", ["yref"] = "paper", ["x0"] = at, ["x1"] = at, ["y0"] = 0, ["y1"] = 1, ["line"] = new JsonObject { ["dash"] = "dash", ["color"] = "crimson" } }
            : new JsonObject { ["type"] = "line", ["xref"] = "paper", ["yref"] = "y", ["x0"] = 0, ["x1"] = 1, ["y0"] = at, ["y1"] = at, ["line"] = new JsonObject { ["dash"] = "dash", ["color"] = "crimson" } });
        var notes = Layout["annotations"] as JsonArray ?? (JsonArray)(Layout["annotations"] = new JsonArray());
        notes.Add(vertical
            ? new JsonObject { ["x"] = at, ["xref"] = "x", ["y"] = 1, ["yref"] = "paper", ["text"] = label, ["showarrow"] = false, ["xanchor"] = "left", ["yanchor"] = "bottom" }
            : new JsonObject { ["x"] = 1, ["xref"] = "paper", ["y"] = at, ["yref"] = "y", ["text"] = label, ["showarrow"] = false, ["xanchor"] = "right", ["yanchor"] = "bottom" });
        return this;
    }

    public JsonObject ToJsonNode() => new()
    {
        ["data"] = new JsonArray(Data.Select(t => (JsonNode)t.DeepClone()).ToArray()),
        ["layout"] = Layout.DeepClone(),
    };

    public string ToJson(bool indented = false) => ToJsonNode().ToJsonString(new JsonSerializerOptions { WriteIndented = indented });

    /// <summary>Reads a figure written by <see cref="ToJson"/> (or any Plotly figure JSON).</summary>
    public static PlotlyFigure FromJson(string json, string source = "figure")
    {
        JsonObject root;
        try { root = JsonNode.Parse(json) as JsonObject ?? throw new FormatException($"{source}: a Plotly figure is a JSON object"); }
        catch (JsonException e) { throw new FormatException($"{source}: not JSON: {e.Message}", e); }
        var figure = new PlotlyFigure();
        if (root["data"] is not JsonArray data) throw new FormatException($"{source}: a Plotly figure needs a \"data\" array");
        foreach (var t in data) figure.Data.Add(t as JsonObject ?? throw new FormatException($"{source}: every trace must be an object"));
        if (root["layout"] is JsonObject layout) foreach (var (k, v) in layout) figure.Layout[k] = v?.DeepClone();
        return figure;
    }

    /// <summary>
    /// A complete HTML page showing the figure offline. With <paramref name="plotlyScriptSrc"/> null plotly.js is
    /// embedded (one self-contained file of about 4.5 MB); otherwise the page loads it from that relative path.
    /// </summary>
    public string ToHtml(string? plotlyScriptSrc = null, string divId = "figure")
    {
        var script = plotlyScriptSrc is null
            ? "<script type=\"text/javascript\">" + PlotlyJs.Source() + "</script>"
            : $"<script src=\"{WebUtility.HtmlEncode(plotlyScriptSrc)}\"></script>";
        return $$"""
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>{{WebUtility.HtmlEncode(Title ?? "EdgeLlm figure")}}</title>
            {{script}}
            </head><body>
            <div id="{{divId}}" style="width:100%;height:90vh"></div>
            <script type="text/javascript">
            Plotly.newPlot("{{divId}}", {{EmbeddedJson()}});
            </script>
            </body></html>
            """;
    }

    /// <summary>The figure JSON made safe inside a &lt;script&gt; element.</summary>
    internal string EmbeddedJson() => ToJson().Replace("</", "<\\/");

    public void SaveJson(string path) => AtomicFile.WriteAllText(path, ToJson(indented: true));

    /// <summary>Writes offline HTML; with <paramref name="embedPlotly"/> false plotly.min.js is copied beside the file and referenced.</summary>
    public void SaveHtml(string path, bool embedPlotly = true)
    {
        if (embedPlotly) { AtomicFile.WriteAllText(path, ToHtml()); return; }
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var beside = Path.Combine(dir, "plotly.min.js");
        if (!File.Exists(beside)) AtomicFile.WriteAllText(beside, PlotlyJs.Source());
        AtomicFile.WriteAllText(path, ToHtml("plotly.min.js"));
    }

    public override string ToString() =>
        $"Plotly figure '{Title ?? "untitled"}': {Data.Count} trace(s) [{string.Join(", ", Data.Select(t => $"{t["type"]}:{t["name"]}"))}]";
}
