using System.Collections;
using System.Reflection;

namespace EdgeLlm.Analysis.Tables;

/// <summary>
/// An immutable table with typed columns (string, double, long, bool; any cell may be null): what results-store
/// queries return, what charts are drawn from, and what notebooks display. Rows iterate as <see cref="ResultRow"/>.
/// From F#: <c>table.Filter(fun r -> r.GetDouble "ratio" > 0.2).GroupBy("method").Aggregate(Agg.Mean "score")</c>.
/// </summary>
public sealed partial class ResultTable : IEnumerable<ResultRow>
{
    private readonly Dictionary<string, int> index;
    private readonly List<object?[]> cells;

    public IReadOnlyList<ColumnSpec> Columns { get; }
    public IReadOnlyList<string> ColumnNames => Columns.Select(c => c.Name).ToList();
    public int RowCount => cells.Count;
    public IReadOnlyList<ResultRow> Rows => cells.Select(c => new ResultRow(this, c)).ToList();

    /// <summary>Builds a table, checking every cell against its column's type.</summary>
    public ResultTable(IReadOnlyList<ColumnSpec> columns, IEnumerable<object?[]> rows)
    {
        Columns = columns.ToList();
        index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Columns.Count; i++)
            if (!index.TryAdd(Columns[i].Name, i)) throw new ArgumentException($"duplicate column '{Columns[i].Name}'");
        cells = rows.Select((row, r) =>
        {
            if (row.Length != Columns.Count) throw new ArgumentException($"row {r} has {row.Length} cells; the table has {Columns.Count} columns");
            return row.Select((v, i) => Columns[i].Coerce(v)).ToArray();
        }).ToList();
    }

    public static ResultTable Empty(params ColumnSpec[] columns) => new(columns, []);

    /// <summary>A table with one column per public property of <typeparamref name="T"/> (records, F# records, anonymous types).</summary>
    public static ResultTable FromRecords<T>(IEnumerable<T> records)
    {
        var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && IsScalar(p.PropertyType)).ToList();
        var columns = properties.Select(p => new ColumnSpec(p.Name, ColumnSpec.For(p.PropertyType))).ToList();
        return new ResultTable(columns, records.Select(r => properties.Select(p => p.GetValue(r)).ToArray()));
    }

    private static bool IsScalar(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        return t.IsPrimitive || t == typeof(string) || t == typeof(double) || t == typeof(decimal) || t.IsEnum;
    }

    public int IndexOf(string column) => index.TryGetValue(column, out int i) ? i
        : throw new ArgumentException($"no column '{column}' (columns: {string.Join(", ", Columns.Select(c => c.Name))})");

    public bool HasColumn(string column) => index.ContainsKey(column);
    public ColumnType TypeOf(string column) => Columns[IndexOf(column)].Type;

    /// <summary>The values of one column, nulls included.</summary>
    public IReadOnlyList<object?> Column(string column) { int i = IndexOf(column); return cells.Select(r => r[i]).ToList(); }
    public double[] Doubles(string column) => Rows.Select(r => r.TryGetDouble(column) ?? double.NaN).ToArray();
    public string[] Strings(string column) => Rows.Select(r => r.IsNull(column) ? "" : r.GetString(column)).ToArray();
    /// <summary>Distinct non-null values of a column in order of first appearance.</summary>
    public IReadOnlyList<object> Distinct(string column) => Column(column).Where(v => v is not null).Distinct().ToList()!;

    public ResultTable Filter(Func<ResultRow, bool> predicate) =>
        new(Columns, cells.Where(c => predicate(new ResultRow(this, c))));

    public ResultTable Select(params string[] columns)
    {
        var idx = columns.Select(IndexOf).ToArray();
        return new(idx.Select(i => Columns[i]).ToList(), cells.Select(r => idx.Select(i => r[i]).ToArray()));
    }

    public ResultTable Rename(string from, string to) =>
        new(Columns.Select(c => c.Name == from ? c with { Name = to } : c).ToList(), cells);

    /// <summary>Adds (or replaces) a column computed from each row.</summary>
    public ResultTable WithColumn(string name, ColumnType type, Func<ResultRow, object?> compute)
    {
        var spec = new ColumnSpec(name, type);
        if (HasColumn(name))
        {
            int at = IndexOf(name);
            return new(Columns.Select((c, i) => i == at ? spec : c).ToList(),
                cells.Select(r => r.Select((v, i) => i == at ? compute(new ResultRow(this, r)) : v).ToArray()));
        }
        return new(Columns.Append(spec).ToList(), cells.Select(r => r.Append(compute(new ResultRow(this, r))).ToArray()));
    }

    /// <summary>Sorts by a column (nulls first ascending); stable.</summary>
    public ResultTable OrderBy(string column, bool descending = false)
    {
        int i = IndexOf(column);
        var sorted = descending ? cells.OrderByDescending(r => r[i], CellComparer.Instance) : cells.OrderBy(r => r[i], CellComparer.Instance);
        return new(Columns, sorted);
    }

    public ResultTable Take(int count) => new(Columns, cells.Take(count));

    public TableGrouping GroupBy(params string[] keys) => new(this, keys);

    /// <summary>Appends the rows of tables with the same columns.</summary>
    public ResultTable Concat(ResultTable other)
    {
        if (!other.Columns.SequenceEqual(Columns)) throw new ArgumentException("Concat needs tables with the same columns and types");
        return new(Columns, cells.Concat(other.cells));
    }

    public IEnumerator<ResultRow> GetEnumerator() => Rows.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal IReadOnlyList<object?[]> RawRows => cells;

    internal sealed class CellComparer : IComparer<object?>
    {
        public static readonly CellComparer Instance = new();
        public int Compare(object? x, object? y) => (x, y) switch
        {
            (null, null) => 0,
            (null, _) => -1,
            (_, null) => 1,
            (long a, double b) => ((double)a).CompareTo(b),
            (double a, long b) => a.CompareTo(b),
            (string a, string b) => string.CompareOrdinal(a, b),
            _ => Comparer<object>.Default.Compare(x, y),
        };
    }
}
