namespace EdgeLlm.Tokenization;

/// <summary>Loads the right tokenizer for a model folder or tokenizer file.</summary>
public static class Tokenizers
{
    /// <summary>
    /// <paramref name="path"/> is a folder holding tokenizer.json (+ optional tokenizer_config.json) or
    /// qwen.tiktoken, or one of those files (a *.tiktoken file is read as Qwen-7B's format).
    /// </summary>
    public static ITokenizer Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            var json = Path.Combine(path, "tokenizer.json");
            if (File.Exists(json)) return BpeTokenizer.FromFolder(path);
            var tiktoken = Path.Combine(path, "qwen.tiktoken");
            if (File.Exists(tiktoken)) return TiktokenTokenizer.FromFile(tiktoken);
            throw new FileNotFoundException($"No tokenizer in {path}: expected tokenizer.json or qwen.tiktoken.", json);
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file or folder not found: {path}", path);
        if (path.EndsWith(".tiktoken", StringComparison.OrdinalIgnoreCase)) return TiktokenTokenizer.FromFile(path);
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            if (Path.GetFileName(path).Equals("tokenizer_config.json", StringComparison.OrdinalIgnoreCase))
                throw new TokenizerFormatException("this is a tokenizer_config.json; pass tokenizer.json or its folder.", path);
            var config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "tokenizer_config.json");
            return BpeTokenizer.FromFile(path, File.Exists(config) ? config : null);
        }
        throw new TokenizerFormatException("unrecognised tokenizer file (expected tokenizer.json or *.tiktoken).", path);
    }
}
