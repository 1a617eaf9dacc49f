using System.Text.Json.Nodes;
using EdgeLlm.Analysis.Tables;
using Microsoft.Data.Analysis;

namespace EdgeLlm.Analysis.Charts;

public enum ChartKind { Bar, Line, Scatter }

/// <summary>
/// Plotly figures drawn from a DataFrame: one trace per value of <c>color</c> (e.g. the pruning
/// method), one subplot per value of <c>facet</c> (e.g. the task), side by side in a grid.
/// </summary>
public static class Charts
{
    public static PlotlyFigure Bar(DataFrame table, string x, string y, string? color = null, string? facet = null, string? title = null) =>
        Build(ChartKind.Bar, table, x, y, color, facet, title);

    public static PlotlyFigure Line(DataFrame table, string x, string y, string? color = null, string? facet = null, string? title = null) =>
        Build(ChartKind.Line, table, x, y, color, facet, title);

    public static PlotlyFigure Scatter(DataFrame table, string x, string y, string? color = null, string? facet = null, string? title = null) =>
        Build(ChartKind.Scatter, table, x, y, color, facet, title);

    public static PlotlyFigure Build(ChartKind kind, DataFrame table, string x, string y, string? color, string? facet, string? title, int facetColumns = 3)
    {
        table.Column(x);
        if (!table.Column(y).IsNumeric())
            throw new ArgumentException($"y column '{y}' must be numeric; it is {table.Column(y).DataType.Name}");
        var figure = new PlotlyFigure(title);
        var facets = facet is null ? [null] : table.Distinct(facet).Cast<object?>().ToList();
        var colors = color is null ? [null] : table.Distinct(color).Cast<object?>().ToList();
        int cols = Math.Min(facetColumns, facets.Count), rows = (facets.Count + cols - 1) / cols;
        for (int f = 0; f < facets.Count; f++)
        {
            string suffix = f == 0 ? "" : (f + 1).ToString();
            var inFacet = facet is null ? table : table.Filter(r => Equals(r[facet], facets[f]));
            foreach (var c in colors)
            {
                var part = color is null ? inFacet : inFacet.Filter(r => Equals(r[color], c));
                if (part.Rows.Count == 0) continue;
                if (kind == ChartKind.Line && part.Column(x).IsNumeric()) part = part.Sort(x);
                var trace = Trace(kind, part, x, y, c is null ? y : DataFrames.Invariant(c));
                trace["legendgroup"] = c is null ? y : DataFrames.Invariant(c);
                trace["showlegend"] = f == 0 && color is not null;
                if (c is not null) trace["marker"] = new JsonObject { ["color"] = Palette(colors.IndexOf(c)) };
                if (c is not null && kind == ChartKind.Line) trace["line"] = new JsonObject { ["color"] = Palette(colors.IndexOf(c)) };
                if (f > 0) { trace["xaxis"] = "x" + suffix; trace["yaxis"] = "y" + suffix; }
                figure.AddTrace(trace);
            }
            if (facet is not null) PlaceFacet(figure, f, suffix, cols, rows, $"{facet} = {DataFrames.Invariant(facets[f])}");
            figure.AxisTitles(x, y, suffix);
        }
        if (kind == ChartKind.Bar && color is not null) figure.Set("barmode", "group");
        if (color is not null) figure.Set("legend", new JsonObject { ["title"] = new JsonObject { ["text"] = color } });
        return figure;
    }

    internal static JsonObject Trace(ChartKind kind, DataFrame part, string x, string y, string name) => new JsonObject
    {
        ["type"] = kind == ChartKind.Bar ? "bar" : "scatter",
        ["mode"] = kind switch { ChartKind.Line => "lines+markers", ChartKind.Scatter => "markers", _ => null },
        ["name"] = name,
        ["x"] = Values(part, x),
        ["y"] = Values(part, y),
    }.WithoutNulls();

    internal static JsonArray Values(DataFrame t, string column) => new(t.Values(column).Select(v => v switch
    {
        null => null,
        double d when !double.IsFinite(d) => null,
        double d => JsonValue.Create(d),
        long l => JsonValue.Create(l),
        bool b => JsonValue.Create(b),
        _ when DataFrames.IsNumeric(v.GetType()) => JsonValue.Create(Convert.ToDouble(v)),
        _ => (JsonNode)JsonValue.Create(DataFrames.Invariant(v)),
    }).ToArray());

    private static void PlaceFacet(PlotlyFigure figure, int f, string suffix, int cols, int rows, string label)
    {
        int col = f % cols, row = f / cols;
        const double gap = 0.06;
        double w = (1 - gap * (cols - 1)) / cols, h = (1 - gap * 1.5 * (rows - 1)) / rows;
        double x0 = col * (w + gap), y1 = 1 - row * (h + gap * 1.5);
        var xa = figure.Axis("xaxis" + suffix); var ya = figure.Axis("yaxis" + suffix);
        xa["domain"] = new JsonArray(x0, x0 + w); ya["domain"] = new JsonArray(y1 - h, y1);
        xa["anchor"] = "y" + suffix; ya["anchor"] = "x" + suffix;
        var notes = figure.Layout["annotations"] as JsonArray ?? (JsonArray)(figure.Layout["annotations"] = new JsonArray());
        notes.Add(new JsonObject
        {
            ["text"] = label, ["showarrow"] = false, ["xref"] = "paper", ["yref"] = "paper",
            ["x"] = x0 + w / 2, ["y"] = y1, ["xanchor"] = "center", ["yanchor"] = "bottom",
        });
    }

    /// <summary>Plotly's default colour sequence, so a method keeps its colour across figures.</summary>
    public static string Palette(int i) => Colors[((i % Colors.Length) + Colors.Length) % Colors.Length];
    private static readonly string[] Colors = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52"];

    internal static JsonObject WithoutNulls(this JsonObject o)
    {
        foreach (var key in o.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList()) o.Remove(key);
        return o;
    }
}
