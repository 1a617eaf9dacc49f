using Microsoft.Data.Analysis;

namespace EdgeLlm.Analysis.Tables;

public static partial class DataFrames
{
    /// <summary>
    /// Groups rows on the key columns <paramref name="by"/> (groups in order of first appearance, a null key is a group of
    /// its own) and computes one column per aggregation, nulls skipped: keys first, then the aggregates. DataFrame.GroupBy
    /// takes one key column, drops rows whose key is null, and its Mean counts null cells as zeros (the mean of 1 and
    /// null comes out 0.5), so store tables, which have nulls, are grouped here.
    /// </summary>
    public static DataFrame Aggregate(this DataFrame frame, string[] by, params Aggregation[] aggregations)
    {
        var keys = by.Select(frame.Column).ToArray();
        var groups = new List<List<long>>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (long r = 0; r < frame.Rows.Count; r++)
        {
            var id = Key(keys, r);
            if (!index.TryGetValue(id, out int g)) { index[id] = g = groups.Count; groups.Add([]); }
            groups[g].Add(r);
        }
        var first = new Int64DataFrameColumn("rows", groups.Select(g => (long?)g[0]));
        return new DataFrame(keys.Select(k => k.Clone(first)).Concat(aggregations.Select(a => a.Apply(frame, groups))));
    }

    /// <summary>Sorts by a column, stably (rows with equal values keep their order), nulls first ascending.</summary>
    public static DataFrame Sort(this DataFrame frame, string column, bool descending = false)
    {
        var c = frame.Column(column);
        var rows = Enumerable.Range(0, (int)frame.Rows.Count).Select(i => (long)i);
        var sorted = descending ? rows.OrderByDescending(r => c[r], CellComparer.Instance) : rows.OrderBy(r => c[r], CellComparer.Instance);
        return Take(frame, sorted.Select(r => (long?)r));
    }

    /// <summary>A column renamed (a new frame).</summary>
    public static DataFrame Rename(this DataFrame frame, string from, string to)
    {
        frame.Column(from);
        return new DataFrame(frame.Columns.Select(c => c.Name == from ? c.Clone().Renamed(to) : c.Clone()));
    }

    /// <summary>
    /// Inner (or left) join on equal values of the key columns; the right frame's other columns are appended, renamed
    /// with <paramref name="suffix"/> where they clash. DataFrame.Merge joins on one column only (and DataFrame.Join joins by row position).
    /// </summary>
    public static DataFrame JoinOn(this DataFrame frame, DataFrame right, string[] on, bool left = false, string suffix = "_right")
    {
        var leftKeys = on.Select(frame.Column).ToArray();
        var rightKeys = on.Select(right.Column).ToArray();
        var lookup = Enumerable.Range(0, (int)right.Rows.Count).ToLookup(r => Key(rightKeys, r));
        var leftRows = new List<long?>();
        var rightRows = new List<long?>();
        for (long l = 0; l < frame.Rows.Count; l++)
        {
            var matches = lookup[Key(leftKeys, l)].ToList();
            if (matches.Count == 0 && left) { leftRows.Add(l); rightRows.Add(null); }
            foreach (var r in matches) { leftRows.Add(l); rightRows.Add(r); }
        }
        var leftMap = new Int64DataFrameColumn("rows", leftRows);
        var rightMap = new Int64DataFrameColumn("rows", rightRows);
        var columns = frame.Columns.Select(c => c.Clone(leftMap)).ToList();
        foreach (var c in right.Columns.Where(c => !on.Contains(c.Name)))
            columns.Add(c.Clone(rightMap).Renamed(frame.HasColumn(c.Name) ? c.Name + suffix : c.Name));
        return new DataFrame(columns);
    }

    /// <summary>
    /// Wide form: one row per distinct <paramref name="rowKey"/>, one Double column per distinct <paramref name="columnKey"/>
    /// value holding <paramref name="value"/> (the mean where several rows meet; null where none).
    /// </summary>
    public static DataFrame Pivot(this DataFrame frame, string rowKey, string columnKey, string value)
    {
        var rowColumn = frame.Column(rowKey);
        var colColumn = frame.Column(columnKey);
        var values = frame.Column(value);
        var colNames = frame.Distinct(columnKey).Select(Invariant).ToList();
        if (colNames.Contains(rowKey)) throw new ArgumentException($"pivot column value '{rowKey}' clashes with the row key's name");
        var rowIds = new List<object?>();
        var firstRows = new List<long?>();
        var sums = new Dictionary<(int Row, string Col), (double Sum, int Count)>();
        for (long r = 0; r < frame.Rows.Count; r++)
        {
            if (rowColumn[r] is not { } rv || colColumn[r] is not { } cv) continue;
            int at = rowIds.FindIndex(x => Equals(x, rv));
            if (at < 0) { at = rowIds.Count; rowIds.Add(rv); firstRows.Add(r); }
            if (values[r] is not { } v) continue;
            var cell = (at, Invariant(cv));
            var (s, n) = sums.GetValueOrDefault(cell);
            sums[cell] = (s + Convert.ToDouble(v), n + 1);
        }
        var columns = new List<DataFrameColumn> { rowColumn.Clone(new Int64DataFrameColumn("rows", firstRows)) };
        columns.AddRange(colNames.Select(name => new DoubleDataFrameColumn(name,
            Enumerable.Range(0, rowIds.Count).Select(i => sums.TryGetValue((i, name), out var x) ? x.Sum / x.Count : (double?)null))));
        return new DataFrame(columns);
    }

    /// <summary>Long form: the given wide columns become (<paramref name="nameColumn"/>, <paramref name="valueColumn"/>) rows.</summary>
    public static DataFrame Unpivot(this DataFrame frame, string[] valueColumns, string nameColumn = "name", string valueColumn = "value")
    {
        var wide = valueColumns.Select(frame.Column).ToArray();
        var keep = frame.Columns.Where(c => !valueColumns.Contains(c.Name)).ToList();
        var map = new Int64DataFrameColumn("rows", Enumerable.Range(0, (int)frame.Rows.Count).SelectMany(r => wide.Select(_ => (long?)r)));
        var columns = keep.Select(c => c.Clone(map)).ToList();
        columns.Add(new StringDataFrameColumn(nameColumn, Enumerable.Range(0, (int)frame.Rows.Count).SelectMany(_ => valueColumns)));
        columns.Add(new DoubleDataFrameColumn(valueColumn, Enumerable.Range(0, (int)frame.Rows.Count)
            .SelectMany(r => wide.Select(c => c[r] is { } v ? Convert.ToDouble(v) : (double?)null))));
        return new DataFrame(columns);
    }

    private static DataFrame Take(DataFrame frame, IEnumerable<long?> rows)
    {
        var map = new Int64DataFrameColumn("rows", rows);
        return new DataFrame(frame.Columns.Select(c => c.Clone(map)));
    }

    internal static DataFrameColumn Renamed(this DataFrameColumn column, string name)
    {
        column.SetName(name);
        return column;
    }
}
