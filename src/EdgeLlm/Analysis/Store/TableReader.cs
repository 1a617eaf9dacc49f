using EdgeLlm.Analysis.Tables;
using Microsoft.Data.Sqlite;

namespace EdgeLlm.Analysis.Store;

/// <summary>Turns a SQLite result into a <see cref="ResultTable"/>: column types from the declared type
/// (INTEGER, REAL, TEXT, BOOLEAN), or for computed columns from the values themselves.</summary>
internal static class TableReader
{
    public static ResultTable Read(SqliteDataReader reader)
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
        var columns = names.Select((n, i) => new ColumnSpec(n,
            declared[i] == ColumnType.Bool ? ColumnType.Bool : Infer(rows, i) ?? declared[i] ?? ColumnType.Double)).ToList();
        for (int i = 0; i < columns.Count; i++)
            if (columns[i].Type == ColumnType.Bool)
                foreach (var row in rows) row[i] = row[i] is long l ? l != 0 : row[i];
        return new ResultTable(columns, rows);
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
}
