using System.Globalization;
using System.Reflection;
using Microsoft.Data.Analysis;

namespace EdgeLlm.Analysis.Tables;

/// <summary>
/// Results are Microsoft.Data.Analysis DataFrames: the results store's queries, the summaries of eval, bench, memory
/// and prune, and the paper figures all take and return them. Store frames hold Int64, Double, Boolean and String
/// columns (any cell may be null). These extensions add what the package lacks for that work and keep it readable from
/// F#: typed cell getters on a row, a row-predicate filter, computed columns, grouping on several keys with null-skipping
/// aggregates (<see cref="Aggregate"/>), joins on several keys, pivots, aligned text, compact HTML, and a typed CSV round
/// trip. From F#: <c>frame.Filter(fun r -> r.GetDouble "ratio" > 0.2).Aggregate([| "method" |], Agg.Mean("score"))</c>.
/// </summary>
public static partial class DataFrames
{
    // ---- columns ----

    /// <summary>The column named <paramref name="name"/>; an unknown name is an error that lists the frame's columns.</summary>
    public static DataFrameColumn Column(this DataFrame frame, string name) =>
        frame.Columns.IndexOf(name) is var i and >= 0 ? frame.Columns[i]
            : throw new ArgumentException($"no column '{name}' (columns: {string.Join(", ", frame.Columns.Select(c => c.Name))})");

    public static bool HasColumn(this DataFrame frame, string name) => frame.Columns.IndexOf(name) >= 0;

    public static IReadOnlyList<string> ColumnNames(this DataFrame frame) => frame.Columns.Select(c => c.Name).ToList();

    /// <summary>True for integer and floating-point columns.</summary>
    public static bool IsNumeric(this DataFrameColumn column) => IsNumeric(column.DataType);

    internal static bool IsNumeric(Type t) =>
        t == typeof(double) || t == typeof(float) || t == typeof(decimal) || IsInteger(t);

    internal static bool IsInteger(Type t) =>
        t == typeof(long) || t == typeof(int) || t == typeof(short) || t == typeof(byte) || t == typeof(sbyte)
        || t == typeof(uint) || t == typeof(ulong) || t == typeof(ushort);

    /// <summary>The values of one column, nulls included.</summary>
    public static IReadOnlyList<object?> Values(this DataFrame frame, string column)
    {
        var c = frame.Column(column);
        return Enumerable.Range(0, checked((int)c.Length)).Select(i => c[i]).ToList();
    }

    /// <summary>A numeric column as doubles, NaN where null.</summary>
    public static double[] Doubles(this DataFrame frame, string column) =>
        frame.Values(column).Select(v => v is null ? double.NaN : ToDouble(v, column)).ToArray();

    /// <summary>A column as invariant strings, "" where null.</summary>
    public static string[] Strings(this DataFrame frame, string column) => frame.Values(column).Select(Invariant).ToArray();

    /// <summary>Distinct non-null values of a column in order of first appearance.</summary>
    public static IReadOnlyList<object> Distinct(this DataFrame frame, string column) =>
        frame.Values(column).Where(v => v is not null).Distinct().ToList()!;

    // ---- rows ----

    public static bool IsNull(this DataFrameRow row, string column) => row[column] is null;

    public static string GetString(this DataFrameRow row, string column) => row[column] switch
    {
        null => throw Null(column),
        string s => s,
        var v => Invariant(v),
    };

    /// <summary>The cell as a double; integer cells widen.</summary>
    public static double GetDouble(this DataFrameRow row, string column) =>
        row[column] is { } v ? ToDouble(v, column) : throw Null(column);

    /// <summary>The cell as a double, or null when empty (F#: <c>Option.ofNullable</c>).</summary>
    public static double? TryGetDouble(this DataFrameRow row, string column) => row[column] is { } v ? ToDouble(v, column) : null;

    public static long GetLong(this DataFrameRow row, string column) => row[column] switch
    {
        null => throw Null(column),
        long l => l,
        var v when IsInteger(v.GetType()) => Convert.ToInt64(v, CultureInfo.InvariantCulture),
        var v => throw new InvalidCastException($"column '{column}' holds {v.GetType().Name} values, not integers ('{v}')"),
    };

    public static bool GetBool(this DataFrameRow row, string column) => row[column] switch
    {
        null => throw Null(column),
        bool b => b,
        var v => throw new InvalidCastException($"column '{column}' holds {v.GetType().Name} values, not Boolean ('{v}')"),
    };

    private static double ToDouble(object v, string column) => v switch
    {
        double d => d,
        _ when IsNumeric(v.GetType()) => Convert.ToDouble(v, CultureInfo.InvariantCulture),
        _ => throw new InvalidCastException($"column '{column}' holds {v.GetType().Name} values, not numbers ('{v}')"),
    };

    private static InvalidOperationException Null(string column) => new($"column '{column}' is null in this row");

    // ---- frames from frames ----

    /// <summary>The rows for which <paramref name="predicate"/> holds (a new frame).</summary>
    public static DataFrame Filter(this DataFrame frame, Func<DataFrameRow, bool> predicate) =>
        frame.Filter(new BooleanDataFrameColumn("keep", frame.Rows.Select(predicate)));

    /// <summary>A new frame of the named columns, in that order.</summary>
    public static DataFrame Select(this DataFrame frame, params string[] columns) =>
        new(columns.Select(c => frame.Column(c).Clone()));

    /// <summary>
    /// Adds (or replaces, in place of the old one) a column computed from each row. Its type follows the lambda's:
    /// integers become Int64, floating point Double, bool Boolean, anything else String.
    /// </summary>
    public static DataFrame WithColumn<T>(this DataFrame frame, string name, Func<DataFrameRow, T> compute)
    {
        var column = NewColumn(name, typeof(T), frame.Rows.Select(r => (object?)compute(r)));
        int at = frame.Columns.IndexOf(name);
        var columns = frame.Columns.Select(c => c.Clone()).ToList();
        if (at >= 0) columns[at] = column; else columns.Add(column);
        return new DataFrame(columns);
    }

    /// <summary>The rows of <paramref name="frame"/> then those of <paramref name="other"/>; both need the same columns and types.</summary>
    public static DataFrame Concat(this DataFrame frame, DataFrame other)
    {
        if (!frame.Columns.Select(c => (c.Name, c.DataType)).SequenceEqual(other.Columns.Select(c => (c.Name, c.DataType))))
            throw new ArgumentException("Concat needs frames with the same columns and types");
        return new DataFrame(frame.Columns.Select((c, i) =>
            NewColumn(c.Name, c.DataType, Enumerable.Range(0, (int)c.Length).Select(r => c[r])
                .Concat(Enumerable.Range(0, (int)other.Columns[i].Length).Select(r => other.Columns[i][r])))));
    }

    // ---- frames from objects ----

    /// <summary>One column per public scalar property of <typeparamref name="T"/> (records, F# records, anonymous types).</summary>
    public static DataFrame FromRecords<T>(IEnumerable<T> records)
    {
        var list = records.ToList();
        var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && IsScalar(p.PropertyType)).ToList();
        return new DataFrame(properties.Select(p => NewColumn(p.Name, p.PropertyType, list.Select(r => p.GetValue(r)))));
    }

    private static bool IsScalar(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        return t.IsPrimitive || t == typeof(string) || t == typeof(decimal) || t.IsEnum;
    }

    /// <summary>A column holding <paramref name="values"/>: Int64 for integer types, Double for floating point, Boolean, else String.</summary>
    public static DataFrameColumn NewColumn(string name, Type type, IEnumerable<object?> values)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(bool)) return new BooleanDataFrameColumn(name, values.Select(v => (bool?)v));
        if (IsInteger(type)) return new Int64DataFrameColumn(name, values.Select(v => v is null ? (long?)null : Convert.ToInt64(v, CultureInfo.InvariantCulture)));
        if (IsNumeric(type)) return new DoubleDataFrameColumn(name, values.Select(v => v is null ? (double?)null : Convert.ToDouble(v, CultureInfo.InvariantCulture)));
        return new StringDataFrameColumn(name, values.Select(v => v is null ? null : Invariant(v)));
    }

    /// <summary>A cell as invariant text: doubles round-trip (shortest form), bools lower-case, null empty.</summary>
    public static string Invariant(object? v) => v switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    /// <summary>Orders cells: nulls first, integers and floating point compared as numbers, strings ordinally.</summary>
    internal sealed class CellComparer : IComparer<object?>
    {
        public static readonly CellComparer Instance = new();
        public int Compare(object? x, object? y) => (x, y) switch
        {
            (null, null) => 0,
            (null, _) => -1,
            (_, null) => 1,
            (string a, string b) => string.CompareOrdinal(a, b),
            _ when IsNumeric(x.GetType()) && IsNumeric(y.GetType()) =>
                Convert.ToDouble(x, CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(y, CultureInfo.InvariantCulture)),
            _ => Comparer<object>.Default.Compare(x, y),
        };
    }

    /// <summary>Grouping key of a row: the invariant text of each key cell, nulls distinct from "".</summary>
    internal static string Key(DataFrameColumn[] keys, long row) =>
        string.Join("\u001f", keys.Select(k => k[row] is { } v ? Invariant(v) : "\u0000"));
}
