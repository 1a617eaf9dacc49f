using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Analysis.Tables;

public sealed partial class ResultTable
{
    /// <summary>RFC 4180 CSV: a header line, CRLF line ends, fields with comma, quote, CR or LF quoted and quotes doubled; null is an empty field.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(",", Columns.Select(c => CsvField(c.Name)))).Append("\r\n");
        foreach (var row in cells)
            sb.Append(string.Join(",", row.Select(v => CsvField(Invariant(v))))).Append("\r\n");
        return sb.ToString();
    }

    private static string CsvField(string s) =>
        s.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    /// <summary>A cell as invariant text: doubles round-trip ("R"), bools lower-case, null empty.</summary>
    public static string Invariant(object? v) => v switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    /// <summary>JSON array of objects, one per row, keys in column order; NaN and infinities become null.</summary>
    public string ToJson(bool indented = false)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartArray();
            foreach (var row in cells)
            {
                w.WriteStartObject();
                for (int i = 0; i < Columns.Count; i++)
                {
                    w.WritePropertyName(Columns[i].Name);
                    WriteJsonValue(w, row[i]);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    internal static void WriteJsonValue(Utf8JsonWriter w, object? v)
    {
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case double d when !double.IsFinite(d): w.WriteNullValue(); break;
            case double d: w.WriteNumberValue(d); break;
            case long l: w.WriteNumberValue(l); break;
            case bool b: w.WriteBooleanValue(b); break;
            default: w.WriteStringValue(v.ToString()); break;
        }
    }

    public void SaveCsv(string path) => AtomicFile.WriteAllText(path, ToCsv());
    public void SaveJson(string path) => AtomicFile.WriteAllText(path, ToJson(indented: true));

    /// <summary>Fixed-width text for terminals: at most <paramref name="maxRows"/> rows, numbers right-aligned.</summary>
    public string ToText(int maxRows = 30)
    {
        var shown = cells.Take(maxRows).Select(r => r.Select(Display).ToArray()).ToList();
        var widths = Columns.Select((c, i) => Math.Max(c.Name.Length, shown.Count == 0 ? 0 : shown.Max(r => r[i].Length))).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine(string.Join("  ", Columns.Select((c, i) => c.Name.PadRight(widths[i]))).TrimEnd());
        sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var r in shown)
            sb.AppendLine(string.Join("  ", r.Select((s, i) => Columns[i].Type is ColumnType.Double or ColumnType.Long ? s.PadLeft(widths[i]) : s.PadRight(widths[i]))).TrimEnd());
        if (cells.Count > maxRows) sb.AppendLine($"... {cells.Count - maxRows} more rows");
        sb.Append($"({cells.Count} rows × {Columns.Count} columns)");
        return sb.ToString();
    }

    /// <summary>An HTML &lt;table&gt; for notebooks (values escaped), at most <paramref name="maxRows"/> rows.</summary>
    public string ToHtml(int maxRows = 50)
    {
        var sb = new StringBuilder("<table class=\"edgellm-table\"><thead><tr>");
        foreach (var c in Columns) sb.Append("<th title=\"").Append(c.Type).Append("\">").Append(WebUtility.HtmlEncode(c.Name)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var r in cells.Take(maxRows))
        {
            sb.Append("<tr>");
            for (int i = 0; i < r.Length; i++)
                sb.Append(Columns[i].Type is ColumnType.Double or ColumnType.Long ? "<td style=\"text-align:right\">" : "<td>")
                  .Append(r[i] is null ? "<i>null</i>" : WebUtility.HtmlEncode(Display(r[i]))).Append("</td>");
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
        sb.Append($"<p><small>{cells.Count} rows × {Columns.Count} columns{(cells.Count > maxRows ? $", first {maxRows} shown" : "")}</small></p>");
        return sb.ToString();
    }

    private static string Display(object? v) => v switch
    {
        null => "null",
        double d => d.ToString(Math.Abs(d) >= 1e6 || (d != 0 && Math.Abs(d) < 1e-3) ? "G4" : "0.####", CultureInfo.InvariantCulture),
        _ => Invariant(v),
    };

    public override string ToString() => ToText();
}
