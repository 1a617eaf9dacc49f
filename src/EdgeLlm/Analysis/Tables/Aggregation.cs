using Microsoft.Data.Analysis;

namespace EdgeLlm.Analysis.Tables;

public enum AggregateKind { Count, Sum, Mean, Min, Max, First, StdDev }

/// <summary>One output column of <see cref="DataFrames.Aggregate"/>: <c>Agg.Mean("score")</c>, <c>Agg.Count()</c>, ...
/// Nulls are skipped (Count counts rows).</summary>
public sealed record Aggregation(AggregateKind Kind, string? Column, string OutputName)
{
    internal DataFrameColumn Apply(DataFrame frame, IReadOnlyList<List<long>> groups)
    {
        if (Kind == AggregateKind.Count) return new Int64DataFrameColumn(OutputName, groups.Select(g => (long?)g.Count));
        var source = frame.Column(Column!);
        if (Kind == AggregateKind.First)
            return source.Clone(new Int64DataFrameColumn("rows", groups.Select(g => g.Select(r => (long?)r).FirstOrDefault(r => source[r!.Value] is not null))))
                .Renamed(OutputName);
        if (!source.IsNumeric()) throw new InvalidOperationException($"cannot take {Kind} of non-numeric column '{Column}' ({source.DataType.Name})");
        bool integer = DataFrames.IsInteger(source.DataType) && Kind is AggregateKind.Sum or AggregateKind.Min or AggregateKind.Max;
        var values = groups.Select(g => g.Select(r => source[r]).Where(v => v is not null).Select(v => Convert.ToDouble(v)).ToList()).ToList();
        if (integer)
        {
            var longs = groups.Select(g => g.Select(r => source[r]).Where(v => v is not null).Select(v => Convert.ToInt64(v)).ToList());
            return new Int64DataFrameColumn(OutputName, longs.Select(l => l.Count == 0 ? (long?)null
                : Kind switch { AggregateKind.Sum => l.Sum(), AggregateKind.Min => l.Min(), _ => l.Max() }));
        }
        return new DoubleDataFrameColumn(OutputName, values.Select(v => v.Count == 0 ? (double?)null : Kind switch
        {
            AggregateKind.Sum => v.Sum(),
            AggregateKind.Mean => v.Average(),
            AggregateKind.Min => v.Min(),
            AggregateKind.Max => v.Max(),
            AggregateKind.StdDev => v.Count < 2 ? 0.0 : Math.Sqrt(v.Sum(x => (x - v.Average()) * (x - v.Average())) / (v.Count - 1)),
            _ => throw new NotSupportedException(Kind.ToString()),
        }));
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
