namespace EdgeLlm.Analysis.Tables;

/// <summary>One row of a <see cref="ResultTable"/>, read by column name with typed getters.</summary>
public sealed class ResultRow
{
    private readonly ResultTable table;
    private readonly object?[] cells;

    internal ResultRow(ResultTable table, object?[] cells) { this.table = table; this.cells = cells; }

    public int Count => cells.Length;
    public IReadOnlyList<object?> Values => cells;
    public object? this[string column] => cells[table.IndexOf(column)];
    public object? this[int index] => cells[index];

    public bool IsNull(string column) => this[column] is null;

    public string GetString(string column) => this[column] switch
    {
        null => throw Null(column),
        string s => s,
        var v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!,
    };

    /// <summary>The cell as a double; Long columns widen.</summary>
    public double GetDouble(string column) => this[column] switch
    {
        double d => d,
        long l => l,
        null => throw Null(column),
        var v => throw new InvalidCastException($"column '{column}' is {table.TypeOf(column)}, not numeric ('{v}')"),
    };

    public long GetLong(string column) => this[column] switch
    {
        long l => l,
        null => throw Null(column),
        var v => throw new InvalidCastException($"column '{column}' is {table.TypeOf(column)}, not Long ('{v}')"),
    };

    public bool GetBool(string column) => this[column] switch
    {
        bool b => b,
        null => throw Null(column),
        var v => throw new InvalidCastException($"column '{column}' is {table.TypeOf(column)}, not Bool ('{v}')"),
    };

    /// <summary>The cell as a double, or null when empty (handy with F# options via Option.ofNullable).</summary>
    public double? TryGetDouble(string column) => this[column] is null ? null : GetDouble(column);

    private static InvalidOperationException Null(string column) => new($"column '{column}' is null in this row");

    public override string ToString() =>
        string.Join(", ", table.Columns.Select((c, i) => $"{c.Name}={cells[i] ?? "null"}"));
}
