namespace EdgeLlm.Analysis.Tables;

/// <summary>The type of one table column; every cell is either of that type or null.</summary>
public enum ColumnType { String, Double, Long, Bool }

/// <summary>A column's name and type.</summary>
public sealed record ColumnSpec(string Name, ColumnType Type)
{
    /// <summary>Checks that <paramref name="value"/> fits this column and returns it in the column's CLR type (long for Long, double for Double).</summary>
    public object? Coerce(object? value) => value switch
    {
        null or DBNull => null,
        _ => Type switch
        {
            ColumnType.String => value as string ?? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
            ColumnType.Double => value is double or float or int or long or decimal or short or byte ? Convert.ToDouble(value) : Mismatch(value),
            ColumnType.Long => value is long or int or short or byte or uint ? Convert.ToInt64(value) : Mismatch(value),
            ColumnType.Bool => value is bool b ? b : value is long l && (l == 0 || l == 1) ? l == 1 : Mismatch(value),
            _ => Mismatch(value),
        },
    };

    private object Mismatch(object value) =>
        throw new ArgumentException($"column '{Name}' holds {Type} values; got {value.GetType().Name} '{value}'");

    /// <summary>The column type that holds values of <paramref name="clr"/> (nullable wrappers unwrapped).</summary>
    public static ColumnType For(Type clr)
    {
        clr = Nullable.GetUnderlyingType(clr) ?? clr;
        if (clr == typeof(bool)) return ColumnType.Bool;
        if (clr == typeof(int) || clr == typeof(long) || clr == typeof(short) || clr == typeof(byte) || clr == typeof(uint)) return ColumnType.Long;
        if (clr == typeof(double) || clr == typeof(float) || clr == typeof(decimal)) return ColumnType.Double;
        return ColumnType.String;
    }
}
