using System.Text.Json;

namespace EdgeLlm.Tokenization;

internal static class JsonFiles
{
    /// <summary>Parses a JSON file, turning I/O and syntax errors into messages that name the file and line.</summary>
    public static JsonDocument Parse(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file not found: {path}", path);
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            var line = e.LineNumber is { } l ? l + 1 : (long?)null;
            throw new TokenizerFormatException($"malformed JSON: {e.Message}", path, line, e);
        }
    }
}
