using System.Globalization;
using System.Net;
using System.Text;
using EdgeLlm.Checkpoints;
using Microsoft.Data.Analysis;

namespace EdgeLlm.Analysis.Tables;

/// <summary>
/// Microsoft.Data.Analysis DataFrames for results: conversion from and to <see cref="ResultTable"/> (what the results
/// store's queries return), a fixed-width text form that keeps every column aligned (DataFrame.ToString() lets long
/// numbers overrun their column), compact HTML for notebooks, and a CSV round trip that keeps the column types
/// (DataFrame.LoadCsv guesses floating-point columns as Single, which loses digits: here they are read as Double).
/// </summary>
public static class DataFrames
{
    /// <summary>One DataFrame column per table column: string, double, long or bool, nulls kept.</summary>
    public static DataFrame ToDataFrame(this ResultTable table)
    {
        var columns = table.Columns.Select((c, i) =>
        {
            var cells = table.Column(c.Name);
            DataFrameColumn column = c.Type switch
            {
                ColumnType.Double => new DoubleDataFrameColumn(c.Name, cells.Select(v => (double?)v)),
                ColumnType.Long => new Int64DataFrameColumn(c.Name, cells.Select(v => (long?)v)),
                ColumnType.Bool => new BooleanDataFrameColumn(c.Name, cells.Select(v => (bool?)v)),
                _ => new StringDataFrameColumn(c.Name, cells.Select(v => (string?)v)),
            };
            return column;
        });
        return new DataFrame(columns);
    }

    /// <summary>A table of the frame's columns; integer columns become Long, floating-point Double, bool Bool, others String.</summary>
    public static ResultTable ToResultTable(this DataFrame frame)
    {
        var specs = frame.Columns.Select(c => new ColumnSpec(c.Name, ColumnSpec.For(c.DataType))).ToList();
        var rows = Enumerable.Range(0, checked((int)frame.Rows.Count)).Select(r =>
            frame.Columns.Select((c, i) => specs[i].Coerce(c[r])).ToArray());
        return new ResultTable(specs, rows);
    }

    /// <summary>Aligned columns (numbers right-aligned, at most <paramref name="maxRows"/> rows, cells cut at
    /// <paramref name="maxWidth"/> characters with "…"), then the frame's size.</summary>
    public static string ToText(this DataFrame frame, int maxRows = 30, int maxWidth = 40)
    {
        int shown = (int)Math.Min(frame.Rows.Count, maxRows);
        var cells = frame.Columns.Select(c => Enumerable.Range(0, shown).Select(r => Clip(Cell(c[r]), maxWidth)).ToList()).ToList();
        var widths = frame.Columns.Select((c, i) => Math.Max(Clip(c.Name, maxWidth).Length, cells[i].DefaultIfEmpty("").Max(s => s.Length))).ToList();
        bool Numeric(DataFrameColumn c) => ColumnSpec.For(c.DataType) is ColumnType.Double or ColumnType.Long;
        string Pad(DataFrameColumn c, string s, int w) => Numeric(c) ? s.PadLeft(w) : s.PadRight(w);
        var sb = new StringBuilder();
        sb.AppendLine(string.Join("  ", frame.Columns.Select((c, i) => Pad(c, Clip(c.Name, maxWidth), widths[i]))).TrimEnd());
        sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        for (int r = 0; r < shown; r++)
            sb.AppendLine(string.Join("  ", frame.Columns.Select((c, i) => Pad(c, cells[i][r], widths[i]))).TrimEnd());
        if (frame.Rows.Count > shown) sb.AppendLine($"... {frame.Rows.Count - shown} more rows");
        return sb.Append($"({frame.Rows.Count} rows × {frame.Columns.Count} columns)").ToString();
    }

    /// <summary>An HTML &lt;table&gt; (values escaped), at most <paramref name="maxRows"/> rows.</summary>
    public static string ToHtml(this DataFrame frame, int maxRows = 50)
    {
        var sb = new StringBuilder("<table class=\"edgellm-table\"><thead><tr>");
        foreach (var c in frame.Columns) sb.Append("<th title=\"").Append(c.DataType.Name).Append("\">").Append(WebUtility.HtmlEncode(c.Name)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        long shown = Math.Min(frame.Rows.Count, maxRows);
        for (long r = 0; r < shown; r++)
        {
            sb.Append("<tr>");
            foreach (var c in frame.Columns)
                sb.Append(ColumnSpec.For(c.DataType) is ColumnType.Double or ColumnType.Long ? "<td style=\"text-align:right\">" : "<td>")
                  .Append(c[r] is null ? "<i>null</i>" : WebUtility.HtmlEncode(Cell(c[r]))).Append("</td>");
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
        return sb.Append($"<p><small>{frame.Rows.Count} rows × {frame.Columns.Count} columns{(frame.Rows.Count > shown ? $", first {shown} shown" : "")}</small></p>").ToString();
    }

    /// <summary>Writes the frame as CSV (invariant culture, round-trippable numbers), atomically.</summary>
    public static void SaveCsv(this DataFrame frame, string path) =>
        AtomicFile.Write(path, stream => DataFrame.SaveCsv(frame, stream, cultureInfo: CultureInfo.InvariantCulture));

    /// <summary>Reads a CSV written by <see cref="SaveCsv"/> (or any header-first CSV): a column is Int64 when every
    /// cell is an integer, Double when every cell is a number, Boolean when every cell is true/false, else String;
    /// empty cells are nulls.</summary>
    public static DataFrame LoadCsv(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file");
        var records = Records(File.ReadAllText(path), path);
        if (records.Count == 0) throw new FormatException($"{path}: empty file, expected a header line");
        var names = records[0];
        for (int r = 1; r < records.Count; r++)
            if (records[r].Length != names.Length) throw new FormatException($"{path}: record {r + 1} has {records[r].Length} cells, the header has {names.Length}");
        return new DataFrame(names.Select((name, i) => Column(name, records.Skip(1).Select(r => r[i]).ToList())));
    }

    private static DataFrameColumn Column(string name, List<string> cells)
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
        double d => d.ToString(Math.Abs(d) >= 1e6 || (d != 0 && Math.Abs(d) < 1e-3) ? "G4" : "0.####", CultureInfo.InvariantCulture),
        float f => ((double)f).ToString("0.####", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";
}
