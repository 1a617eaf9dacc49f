using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using EdgeLlm.Checkpoints;
using Microsoft.Data.Analysis;

namespace EdgeLlm.Analysis.Tables;

public static partial class DataFrames
{
    /// <summary>Aligned columns (numbers right-aligned, at most <paramref name="maxRows"/> rows, cells cut at
    /// <paramref name="maxWidth"/> characters with "…"), then the frame's size. DataFrame.ToString() pads every column to
    /// a fixed width, so long numbers push the columns after them out of line.</summary>
    public static string ToText(this DataFrame frame, int maxRows = 30, int maxWidth = 40)
    {
        int shown = (int)Math.Min(frame.Rows.Count, maxRows);
        var cells = frame.Columns.Select(c => Enumerable.Range(0, shown).Select(r => Clip(Cell(c[r]), maxWidth)).ToList()).ToList();
        var widths = frame.Columns.Select((c, i) => Math.Max(Clip(c.Name, maxWidth).Length, cells[i].DefaultIfEmpty("").Max(s => s.Length))).ToList();
        string Pad(DataFrameColumn c, string s, int w) => c.IsNumeric() ? s.PadLeft(w) : s.PadRight(w);
        var sb = new StringBuilder();
        sb.AppendLine(string.Join("  ", frame.Columns.Select((c, i) => Pad(c, Clip(c.Name, maxWidth), widths[i]))).TrimEnd());
        sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        for (int r = 0; r < shown; r++)
            sb.AppendLine(string.Join("  ", frame.Columns.Select((c, i) => Pad(c, cells[i][r], widths[i]))).TrimEnd());
        if (frame.Rows.Count > shown) sb.AppendLine($"... {frame.Rows.Count - shown} more rows");
        return sb.Append($"({frame.Rows.Count} rows × {frame.Columns.Count} columns)").ToString();
    }

    /// <summary>An HTML &lt;table&gt; (values escaped, cells cut at <paramref name="maxWidth"/> characters), at most <paramref name="maxRows"/> rows.</summary>
    public static string ToHtml(this DataFrame frame, int maxRows = 50, int maxWidth = 200)
    {
        var sb = new StringBuilder("<table class=\"edgellm-table\"><thead><tr>");
        foreach (var c in frame.Columns) sb.Append("<th title=\"").Append(c.DataType.Name).Append("\">").Append(WebUtility.HtmlEncode(c.Name)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        long shown = Math.Min(frame.Rows.Count, maxRows);
        for (long r = 0; r < shown; r++)
        {
            sb.Append("<tr>");
            foreach (var c in frame.Columns)
                sb.Append(c.IsNumeric() ? "<td style=\"text-align:right\">" : "<td>")
                  .Append(c[r] is null ? "<i>null</i>" : WebUtility.HtmlEncode(Clip(Cell(c[r]), maxWidth))).Append("</td>");
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
        return sb.Append($"<p><small>{frame.Rows.Count} rows × {frame.Columns.Count} columns{(frame.Rows.Count > shown ? $", first {shown} shown" : "")}</small></p>").ToString();
    }

    /// <summary>RFC 4180 CSV: a header line, CRLF line ends, fields with comma, quote, CR or LF quoted and quotes doubled;
    /// numbers in their shortest round-trip form (DataFrame.SaveCsv writes 0.1 as 0.10000000000000001), bools
    /// lower-case, null an empty field.</summary>
    public static string ToCsv(this DataFrame frame)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(",", frame.Columns.Select(c => CsvField(c.Name)))).Append("\r\n");
        for (long r = 0; r < frame.Rows.Count; r++)
            sb.Append(string.Join(",", frame.Columns.Select(c => CsvField(Invariant(c[r]))))).Append("\r\n");
        return sb.ToString();
    }

    private static string CsvField(string s) =>
        s.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    /// <summary>Writes <see cref="ToCsv"/> atomically (a temporary file, then a rename).</summary>
    public static void SaveCsv(this DataFrame frame, string path) => AtomicFile.WriteAllText(path, frame.ToCsv());

    /// <summary>JSON array of objects, one per row, keys in column order; NaN and infinities become null.</summary>
    public static string ToJson(this DataFrame frame, bool indented = false)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartArray();
            for (long r = 0; r < frame.Rows.Count; r++)
            {
                w.WriteStartObject();
                foreach (var c in frame.Columns)
                {
                    w.WritePropertyName(c.Name);
                    switch (c[r])
                    {
                        case null: w.WriteNullValue(); break;
                        case double d when !double.IsFinite(d): w.WriteNullValue(); break;
                        case double d: w.WriteNumberValue(d); break;
                        case long l: w.WriteNumberValue(l); break;
                        case bool b: w.WriteBooleanValue(b); break;
                        case var v when IsNumeric(v.GetType()): w.WriteNumberValue(Convert.ToDouble(v, CultureInfo.InvariantCulture)); break;
                        case var v: w.WriteStringValue(Invariant(v)); break;
                    }
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static void SaveJson(this DataFrame frame, string path) => AtomicFile.WriteAllText(path, frame.ToJson(indented: true));

    /// <summary>Reads a CSV written by <see cref="SaveCsv"/> (or any header-first CSV): a column is Int64 when every
    /// cell is an integer, Double when every cell is a number, Boolean when every cell is true/false, else String;
    /// empty cells are nulls. DataFrame.LoadCsv guesses floating-point columns as Single, which loses digits.</summary>
    public static DataFrame LoadCsv(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file");
        var records = Records(File.ReadAllText(path), path);
        if (records.Count == 0) throw new FormatException($"{path}: empty file, expected a header line");
        var names = records[0];
        for (int r = 1; r < records.Count; r++)
            if (records[r].Length != names.Length) throw new FormatException($"{path}: record {r + 1} has {records[r].Length} cells, the header has {names.Length}");
        return new DataFrame(names.Select((name, i) => ParsedColumn(name, records.Skip(1).Select(r => r[i]).ToList())));
    }

    private static DataFrameColumn ParsedColumn(string name, List<string> cells)
    {
        var present = cells.Where(c => c.Length > 0).ToList();
        var inv = CultureInfo.InvariantCulture;
        if (present.Count > 0 && present.All(c => long.TryParse(c, NumberStyles.Integer, inv, out _)))
            return new Int64DataFrameColumn(name, cells.Select(c => c.Length == 0 ? (long?)null : long.Parse(c, inv)));
        if (present.Count > 0 && present.All(c => double.TryParse(c, NumberStyles.Float, inv, out _)))
            return new DoubleDataFrameColumn(name, cells.Select(c => c.Length == 0 ? (double?)null : double.Parse(c, NumberStyles.Float, inv)));
        if (present.Count > 0 && present.All(c => bool.TryParse(c, out _)))
            return new BooleanDataFrameColumn(name, cells.Select(c => c.Length == 0 ? (bool?)null : bool.Parse(c)));
        return new StringDataFrameColumn(name, cells.Select(c => c.Length == 0 ? null : c));
    }

    /// <summary>CSV records (RFC 4180: quoted cells may hold commas, newlines and doubled quotes); blank lines are skipped.</summary>
    private static List<string[]> Records(string text, string path)
    {
        var records = new List<string[]>();
        var cells = new List<string>();
        var cell = new StringBuilder();
        bool quoted = false, any = false;
        void EndRecord()
        {
            if (any || cell.Length > 0 || cells.Count > 0) { cells.Add(cell.ToString()); records.Add([.. cells]); }
            cells.Clear(); cell.Clear(); any = false;
        }
        for (int i = 0; i < text.Length; i++)
        {
            char ch = text[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < text.Length && text[i + 1] == '"') { cell.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else cell.Append(ch);
            }
            else if (ch == '"') { quoted = true; any = true; }
            else if (ch == ',') { cells.Add(cell.ToString()); cell.Clear(); any = true; }
            else if (ch == '\n') EndRecord();
            else if (ch != '\r') cell.Append(ch);
        }
        if (quoted) throw new FormatException($"{path}: a quoted cell is not closed");
        EndRecord();
        return records;
    }

    private static string Cell(object? v) => v switch
    {
        null => "null",
        double d when d == Math.Round(d) && Math.Abs(d) < 1e15 => d.ToString("0", CultureInfo.InvariantCulture), // a mean of counts
        double d => d.ToString(Math.Abs(d) >= 1e6 || (d != 0 && Math.Abs(d) < 1e-3) ? "G4" : "0.####", CultureInfo.InvariantCulture),
        float f => ((double)f).ToString("0.####", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";
}
