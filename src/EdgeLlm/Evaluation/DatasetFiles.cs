using System.IO.Compression;
using System.Text.Json;

namespace EdgeLlm.Evaluation;

/// <summary>Reads published dataset files (JSON lines, optionally gzip'd; one JSON document), reporting file and line on bad input.</summary>
public static class DatasetFiles
{
    public static IEnumerable<(int Line, JsonElement Value)> JsonLines(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Dataset file not found: {path}", path);
        using var stream = File.OpenRead(path);
        using var decoded = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(stream, CompressionMode.Decompress) : (Stream)stream;
        using var reader = new StreamReader(decoded);
        int number = 0;
        for (string? line = reader.ReadLine(); line != null; line = reader.ReadLine())
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement value;
            try { value = JsonDocument.Parse(line).RootElement.Clone(); }
            catch (JsonException e) { throw new DatasetFormatException(path, number, "not a JSON object: " + e.Message, e); }
            if (value.ValueKind != JsonValueKind.Object) throw new DatasetFormatException(path, number, "expected a JSON object");
            yield return (number, value);
        }
    }

    public static JsonElement JsonDocumentRoot(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Dataset file not found: {path}", path);
        try { return JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone(); }
        catch (JsonException e) { throw new DatasetFormatException(path, (int)(e.LineNumber ?? 0) + 1, "not valid JSON: " + e.Message, e); }
    }

    /// <summary>A required string field; a missing or non-string field is an error naming file and line.</summary>
    public static string Text(JsonElement item, string field, string path, int line) =>
        item.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
            : throw new DatasetFormatException(path, line, $"missing string field '{field}'");

    public static JsonElement Field(JsonElement item, string field, string path, int line, JsonValueKind kind) =>
        item.TryGetProperty(field, out var v) && v.ValueKind == kind ? v
            : throw new DatasetFormatException(path, line, $"missing {kind.ToString().ToLowerInvariant()} field '{field}'");

    public static List<string> Strings(JsonElement array, string path, int line) =>
        array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()!
            : throw new DatasetFormatException(path, line, "expected a list of strings")).ToList();
}
