using System.Text.Json;

namespace EdgeLlm.Tokenization;

/// <summary>Reads the BOS/EOS settings of a Hugging Face tokenizer_config.json.</summary>
internal static class TokenizerConfigReader
{
    public static SpecialTokenSettings Read(string? path)
    {
        if (path is null) return new SpecialTokenSettings(null, null, null, null);
        using var doc = JsonFiles.Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new TokenizerFormatException("expected a JSON object at the top level.", path);
        return new SpecialTokenSettings(
            TokenContent(root, "bos_token", path),
            TokenContent(root, "eos_token", path),
            Flag(root, "add_bos_token", path),
            Flag(root, "add_eos_token", path));
    }

    /// <summary>A special token given as a string or as an object with "content".</summary>
    private static string? TokenContent(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            _ => throw new TokenizerFormatException($"'{name}' must be a string, null, or an object with a string 'content'.", path),
        };
    }

    private static bool? Flag(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => null,
            _ => throw new TokenizerFormatException($"'{name}' must be true or false.", path),
        };
    }
}
