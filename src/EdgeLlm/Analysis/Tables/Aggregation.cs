namespace EdgeLlm.Analysis.Tables;

public enum AggregateKind { Count, Sum, Mean, Min, Max, First, StdDev }

/// <summary>One output column of <see cref="TableGrouping.Aggregate"/>: <c>Agg.Mean("score")</c>, <c>Agg.Count()</c>, ...</summary>
public sealed record Aggregation(AggregateKind Kind, string? Column, string OutputName)
{
    internal ColumnType OutputType(ResultTable source) => Kind switch
    {
        AggregateKind.Count => ColumnType.Long,
        AggregateKind.First => source.TypeOf(Column!),
        AggregateKind.Sum or AggregateKind.Min or AggregateKind.Max when source.TypeOf(Column!) == ColumnType.Long => ColumnType.Long,
        _ => ColumnType.Double,
    };

    internal object? Apply(IReadOnlyList<ResultRow> rows)
    {
        if (Kind == AggregateKind.Count) return (long)rows.Count;
        var present = rows.Select(r => r[Column!]).Where(v => v is not null).ToList();
        if (Kind == AggregateKind.First) return present.FirstOrDefault();
        if (present.Count == 0) return null;
        if (present[0] is long && Kind is AggregateKind.Sum or AggregateKind.Min or AggregateKind.Max)
        {
            var longs = present.Cast<long>().ToList();
            return Kind switch { AggregateKind.Sum => longs.Sum(), AggregateKind.Min => longs.Min(), _ => longs.Max() };
        }
        var values = present.Select(v => v is long l ? l : v is double d ? d
            : throw new InvalidOperationException($"cannot take {Kind} of non-numeric column '{Column}'")).ToList();
        return Kind switch
        {
            AggregateKind.Sum => values.Sum(),
            AggregateKind.Mean => values.Average(),
            AggregateKind.Min => values.Min(),
            AggregateKind.Max => values.Max(),
            AggregateKind.StdDev => values.Count < 2 ? 0.0 : Math.Sqrt(values.Sum(v => (v - values.Average()) * (v - values.Average())) / (values.Count - 1)),
            _ => throw new NotSupportedException(Kind.ToString()),
        };
    }
}

/// <summary>Builders for <see cref="Aggregation"/>; the output column is named after the input unless <c>as</c> is given.</summary>
public static class Agg
{
    public static Aggregation Count(string @as = "count") => new(AggregateKind.Count, null, @as);
    public static Aggregation Sum(string column, string? @as = null) => new(AggregateKind.Sum, column, @as ?? column);
    public static Aggregation Mean(string column, string? @as = null) => new(AggregateKind.Mean, column, @as ?? column);
    public static Aggregation Min(string column, string? @as = null) => new(AggregateKind.Min, column, @as ?? column);
    public static Aggregation Max(string column, string? @as = null) => new(AggregateKind.Max, column, @as ?? column);
    public static Aggregation First(string column, string? @as = null) => new(AggregateKind.First, column, @as ?? column);
    public static Aggregation StdDev(string column, string? @as = null) => new(AggregateKind.StdDev, column, @as ?? column);
}

/// <summary>Rows of a table grouped by key columns, in order of first appearance.</summary>
public sealed class TableGrouping
{
    private readonly ResultTable source;
    private readonly string[] keys;

    internal TableGrouping(ResultTable source, string[] keys)
    {
        foreach (var k in keys) source.IndexOf(k);
        this.source = source; this.keys = keys;
    }

    public ResultTable Aggregate(params Aggregation[] aggregations)
    {
        var groups = new List<(object?[] Key, List<ResultRow> Rows)>();
        var index = new Dictionary<string, int>();
        foreach (var row in source.Rows)
        {
            var key = keys.Select(k => row[k]).ToArray();
            var id = string.Join("\u001f", key.Select(v => v is null ? "\u0000" : Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)));
            if (!index.TryGetValue(id, out int g)) { index[id] = g = groups.Count; groups.Add((key, [])); }
            groups[g].Rows.Add(row);
        }
        var columns = keys.Select(k => new ColumnSpec(k, source.TypeOf(k)))
            .Concat(aggregations.Select(a => new ColumnSpec(a.OutputName, a.OutputType(source)))).ToList();
        var rows = groups.Select(g => g.Key.Concat(aggregations.Select(a => a.Apply(g.Rows))).ToArray()).ToList();
        return new ResultTable(columns, rows);
    }
}
