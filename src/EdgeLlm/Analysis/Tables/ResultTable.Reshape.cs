namespace EdgeLlm.Analysis.Tables;

public sealed partial class ResultTable
{
    /// <summary>
    /// Inner (or left) join on equal values of the key columns; the right table's other columns are appended,
    /// renamed with <paramref name="suffix"/> where they clash.
    /// </summary>
    public ResultTable Join(ResultTable right, string[] on, bool left = false, string suffix = "_right")
    {
        var rightKeys = on.Select(right.IndexOf).ToArray();
        var leftKeys = on.Select(IndexOf).ToArray();
        var extra = Enumerable.Range(0, right.Columns.Count).Where(i => !rightKeys.Contains(i)).ToArray();
        var columns = Columns.Concat(extra.Select(i => right.Columns[i] is var c && HasColumn(c.Name) ? c with { Name = c.Name + suffix } : right.Columns[i])).ToList();
        var lookup = right.cells.ToLookup(r => Key(r, rightKeys));
        var rows = new List<object?[]>();
        foreach (var l in cells)
        {
            var matches = lookup[Key(l, leftKeys)].ToList();
            if (matches.Count == 0 && left) rows.Add(l.Concat(new object?[extra.Length]).ToArray());
            foreach (var r in matches) rows.Add(l.Concat(extra.Select(i => r[i])).ToArray());
        }
        return new(columns, rows);
    }

    public ResultTable Join(ResultTable right, string on) => Join(right, [on]);

    private static string Key(object?[] row, int[] keys) =>
        string.Join("\u001f", keys.Select(k => row[k] is null ? "\u0000" : Convert.ToString(row[k], System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>
    /// Wide form: one row per distinct <paramref name="rowKey"/>, one column per distinct <paramref name="columnKey"/>
    /// value holding <paramref name="value"/> (the mean where several rows meet; null where none).
    /// </summary>
    public ResultTable Pivot(string rowKey, string columnKey, string value)
    {
        var rowValues = Distinct(rowKey);
        var colValues = Distinct(columnKey).Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!).ToList();
        if (colValues.Contains(rowKey)) throw new ArgumentException($"pivot column value '{rowKey}' clashes with the row key's name");
        var columns = new List<ColumnSpec> { new(rowKey, TypeOf(rowKey)) };
        columns.AddRange(colValues.Select(c => new ColumnSpec(c, ColumnType.Double)));
        var rows = rowValues.Select(rv =>
        {
            var row = new object?[columns.Count];
            row[0] = rv;
            for (int c = 0; c < colValues.Count; c++)
            {
                var hits = Rows.Where(r => Equals(r[rowKey], rv) && Convert.ToString(r[columnKey], System.Globalization.CultureInfo.InvariantCulture) == colValues[c] && !r.IsNull(value))
                    .Select(r => r.GetDouble(value)).ToList();
                row[c + 1] = hits.Count == 0 ? null : hits.Average();
            }
            return row;
        });
        return new(columns, rows);
    }

    /// <summary>Long form: the given wide columns become (<paramref name="nameColumn"/>, <paramref name="valueColumn"/>) rows.</summary>
    public ResultTable Unpivot(string[] valueColumns, string nameColumn = "name", string valueColumn = "value")
    {
        var keep = Columns.Where(c => !valueColumns.Contains(c.Name)).ToList();
        var columns = keep.Append(new ColumnSpec(nameColumn, ColumnType.String)).Append(new ColumnSpec(valueColumn, ColumnType.Double)).ToList();
        var rows = Rows.SelectMany(r => valueColumns.Select(v => keep.Select(k => r[k.Name]).Append(v).Append(r.TryGetDouble(v)).ToArray()));
        return new(columns, rows);
    }
}
