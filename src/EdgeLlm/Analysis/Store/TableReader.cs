using Microsoft.Data.Analysis;
using Microsoft.Data.Sqlite;

namespace EdgeLlm.Analysis.Store;

/// <summary>Turns a SQLite result into a DataFrame of Int64, Double, Boolean and String columns: types from the
/// declared type (INTEGER, REAL, TEXT, BOOLEAN), or for computed columns from the values themselves.</summary>
internal static class TableReader
{
    public static DataFrame Read(SqliteDataReader reader)
    {
        var names = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToArray();
        ColumnType?[]? declared = null;
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            declared ??= Enumerable.Range(0, reader.FieldCount).Select(i => Declared(reader, i)).ToArray();
            var row = new object?[names.Length];
            for (int i = 0; i < names.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        declared ??= Enumerable.Range(0, reader.FieldCount).Select(i => Declared(reader, i)).ToArray();
        // Values decide (SQLite types per value); the declared type decides BOOLEAN and columns with no values.
        return new DataFrame(names.Select((n, i) =>
        {
            var type = declared[i] == ColumnType.Bool ? ColumnType.Bool : Infer(rows, i) ?? declared[i] ?? ColumnType.Double;
            var cells = rows.Select(r => r[i]);
            DataFrameColumn column = type switch
            {
                ColumnType.Bool => new BooleanDataFrameColumn(n, cells.Select(v => v is null ? (bool?)null : v is long l ? l != 0 : (bool)v)),
                ColumnType.Long => new Int64DataFrameColumn(n, cells.Select(v => (long?)v)),
                ColumnType.Double => new DoubleDataFrameColumn(n, cells.Select(v => v is null ? (double?)null : Convert.ToDouble(v))),
                _ => new StringDataFrameColumn(n, cells.Select(v => v switch { null => null, string s => s, byte[] b => Convert.ToBase64String(b), _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) })),
            };
            return column;
        }));
    }

    private static ColumnType? Declared(SqliteDataReader reader, int i)
    {
        string type;
        try { type = reader.GetDataTypeName(i).ToUpperInvariant(); } catch (Exception e) when (e is InvalidOperationException or SqliteException) { return null; }
        return type switch
        {
            "BOOLEAN" => ColumnType.Bool,
            "REAL" => ColumnType.Double,
            "TEXT" => ColumnType.String,
            "INTEGER" => ColumnType.Long,
            _ => null,
        };
    }

    private static ColumnType? Infer(List<object?[]> rows, int i)
    {
        var values = rows.Select(r => r[i]).Where(v => v is not null).ToList();
        if (values.Count == 0) return null;
        if (values.Any(v => v is string or byte[])) return ColumnType.String;
        if (values.All(v => v is long)) return ColumnType.Long;
        return ColumnType.Double;
    }

    private enum ColumnType { String, Double, Long, Bool }
}
