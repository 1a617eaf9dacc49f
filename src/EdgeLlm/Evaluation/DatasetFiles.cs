using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace EdgeLlm.Evaluation;

/// <summary>Reads published dataset files (JSON lines, optionally gzip'd; one JSON document), reporting file and line on bad input.</summary>
public static class DatasetFiles
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The JSON objects of a JSON-lines file (gzip'd when its name ends in .gz), with their line numbers.
    /// Invalid UTF-8, a corrupt gzip stream, a line that is not a JSON object, or a file with no objects at
    /// all is a <see cref="DatasetFormatException"/> naming the file and line.
    /// </summary>
    public static IEnumerable<(int Line, JsonElement Value)> JsonLines(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Dataset file not found: {path}", path);
        using var stream = File.OpenRead(path);
        using var decoded = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(stream, CompressionMode.Decompress) : (Stream)stream;
        var lines = new ByteLines(decoded, path);
        int number = 0, objects = 0;
        while (lines.Next() is { } bytes)
        {
            number++;
            var line = Decode(bytes, path, number);
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement value;
            try { value = JsonDocument.Parse(line).RootElement.Clone(); }
            catch (JsonException e) { throw new DatasetFormatException(path, number, "not a JSON object: " + e.Message, e); }
            if (value.ValueKind != JsonValueKind.Object) throw new DatasetFormatException(path, number, "expected a JSON object");
            objects++;
            yield return (number, value);
        }
        if (objects == 0) throw new DatasetFormatException(path, number, "the file holds no samples");
    }

    /// <summary>A whole text file as strict UTF-8: invalid bytes are an error naming the file and line, never U+FFFD.</summary>
    public static string ReadText(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Dataset file not found: {path}", path);
        var bytes = File.ReadAllBytes(path);
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException e)
        {
            int at = Math.Clamp(e.Index, 0, bytes.Length);
            throw new DatasetFormatException(path, 1 + bytes.AsSpan(0, at).Count((byte)'\n'), "invalid UTF-8 (byte 0x" +
                (at < bytes.Length ? bytes[at].ToString("X2") : "??") + "); dataset files must be UTF-8", e);
        }
    }

    private static string Decode(byte[] bytes, string path, int line)
    {
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException e)
        {
            throw new DatasetFormatException(path, line, "invalid UTF-8" + (e.BytesUnknown is { Length: > 0 } b ? $" (byte 0x{b[0]:X2})" : "") + "; dataset files must be UTF-8", e);
        }
    }

    /// <summary>Splits a stream at '\n' into raw byte lines, so that each is decoded (and reported) on its own; gzip corruption is reported with the file.</summary>
    private sealed class ByteLines(Stream stream, string path)
    {
        private readonly byte[] buffer = new byte[1 << 16];
        private int start, end;
        private bool done;

        public byte[]? Next()
        {
            var line = new List<byte[]>();
            while (true)
            {
                int nl = Array.IndexOf(buffer, (byte)'\n', start, end - start);
                if (nl >= 0)
                {
                    line.Add(buffer[start..nl]);
                    start = nl + 1;
                    return Join(line);
                }
                if (end > start) line.Add(buffer[start..end]);
                start = end = 0;
                if (done) return line.Count > 0 ? Join(line) : null;
                try { end = stream.Read(buffer, 0, buffer.Length); }
                catch (InvalidDataException e) { throw new DatasetFormatException(path, 0, "not a valid gzip file: " + e.Message, e); }
                if (end == 0) done = true;
            }
        }

        private static byte[] Join(List<byte[]> parts)
        {
            var all = parts.Count == 1 ? parts[0] : parts.SelectMany(p => p).ToArray();
            return all.Length > 0 && all[^1] == (byte)'\r' ? all[..^1] : all;
        }
    }

    public static JsonElement JsonDocumentRoot(string path)
    {
        var text = ReadText(path);
        try { return JsonDocument.Parse(text).RootElement.Clone(); }
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
