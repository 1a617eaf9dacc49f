namespace EdgeLlm.Tokenization;

/// <summary>Parses a .tiktoken file: each non-empty line is "base64(token bytes) rank".</summary>
internal static class TiktokenFile
{
    /// <summary>Checks every line (so a bad one is named with its number) and returns the ranks keyed by token bytes widened one-to-one to chars.</summary>
    public static Dictionary<string, int> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file not found: {path}", path);
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineNumber = 0;
        var buffer = new byte[1024];
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
                throw new TokenizerFormatException("expected 'base64-token rank'.", path, lineNumber);
            if (!int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var rank))
                throw new TokenizerFormatException($"rank '{parts[1]}' is not a non-negative integer.", path, lineNumber);
            if (buffer.Length < parts[0].Length) buffer = new byte[parts[0].Length];
            if (!Convert.TryFromBase64String(parts[0], buffer, out var written) || written == 0)
                throw new TokenizerFormatException($"'{parts[0]}' is not valid base64 for a non-empty token.", path, lineNumber);
            if (!ranks.TryAdd(ToKey(buffer.AsSpan(0, written)), rank))
                throw new TokenizerFormatException($"token '{parts[0]}' is listed twice.", path, lineNumber);
        }
        if (ranks.Count == 0) throw new TokenizerFormatException("the file holds no tokens.", path);
        return ranks;
    }

    private static string ToKey(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++) chars[i] = (char)bytes[i];
        return new string(chars);
    }
}
