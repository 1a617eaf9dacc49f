using Parquet;
using Parquet.Schema;
using Parquet.Serialization;

namespace EdgeLlm.Evaluation;

/// <summary>
/// Reads a parquet dataset file (the Hugging Face Hub's published format) one row group at a time into
/// typed rows. Row classes name their columns with [JsonPropertyName]; nested struct and list columns map
/// to nested classes and List&lt;string&gt;. Errors name the file: not a parquet file, or a missing column.
/// The "line" of a <see cref="DatasetFormatException"/> from here is the 1-based row number (0 for the file).
/// </summary>
public static class ParquetFile
{
    public static bool IsParquet(string path) => path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase);

    /// <summary>The rows of <paramref name="path"/>; <paramref name="requiredColumns"/> are column paths such as "choices/text".</summary>
    public static IEnumerable<(int Row, T Value)> Read<T>(string path, params string[] requiredColumns) where T : class, new()
    {
        int rowGroups;
        using (var stream = Open(path))
        {
            var reader = Create(stream, path);
            var missing = requiredColumns.Where(c => !HasColumn(reader.Schema, c)).ToList();
            if (missing.Count > 0)
                throw new DatasetFormatException(path, 0, $"parquet file has no column {string.Join(", ", missing.Select(c => $"'{c}'"))} " +
                                                          $"(columns: {string.Join(", ", reader.Schema.Fields.Select(f => f.Name))})");
            rowGroups = reader.RowGroupCount;
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        int row = 0;
        for (int g = 0; g < rowGroups; g++)
        {
            IList<T> rows;
            try { rows = ParquetSerializer.DeserializeAsync<T>(path, null, g).GetAwaiter().GetResult().Data; }
            catch (Exception e) when (e is not DatasetFormatException)
            {
                throw new DatasetFormatException(path, row + 1, $"parquet row group {g} could not be read as {typeof(T).Name}: {e.Message}", e);
            }
            foreach (var value in rows) yield return (++row, value);
        }
    }

    private static FileStream Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Dataset file not found: {path}", path);
        var stream = File.OpenRead(path);
        // A parquet file starts and ends with "PAR1".
        Span<byte> head = stackalloc byte[4], tail = stackalloc byte[4];
        bool magic = stream.Length >= 12 && stream.Read(head) == 4 && head.SequenceEqual("PAR1"u8)
                     && stream.Seek(-4, SeekOrigin.End) >= 0 && stream.Read(tail) == 4 && tail.SequenceEqual("PAR1"u8);
        if (!magic)
        {
            stream.Dispose();
            throw new DatasetFormatException(path, 0, "not a parquet file (no PAR1 marker at its start and end)");
        }
        stream.Position = 0;
        return stream;
    }

    private static ParquetReader Create(Stream stream, string path)
    {
        try { return ParquetReader.CreateAsync(stream, null, leaveStreamOpen: true).GetAwaiter().GetResult(); }
        catch (Exception e) { throw new DatasetFormatException(path, 0, "unreadable parquet footer: " + e.Message, e); }
    }

    private static bool HasColumn(ParquetSchema schema, string column)
    {
        IReadOnlyList<Field> fields = schema.Fields;
        foreach (var name in column.Split('/'))
        {
            var field = fields.FirstOrDefault(f => f.Name == name);
            if (field == null) return false;
            fields = field is StructField s ? s.Fields : [];
        }
        return true;
    }
}
