namespace EdgeLlm.Tokenization;

/// <summary>A tokenizer file is missing something, malformed, or uses a feature this library does not support.</summary>
public sealed class TokenizerFormatException : EdgeLlmException
{
    public TokenizerFormatException(string message, string? filePath = null, long? lineNumber = null, Exception? inner = null)
        : base(Compose(message, filePath, lineNumber), inner)
    {
        FilePath = filePath;
        LineNumber = lineNumber;
    }

    public string? FilePath { get; }

    /// <summary>1-based line in <see cref="FilePath"/>, when known.</summary>
    public long? LineNumber { get; }

    private static string Compose(string message, string? filePath, long? lineNumber) =>
        filePath is null ? message
        : lineNumber is null ? $"{filePath}: {message}"
        : $"{filePath}({lineNumber}): {message}";
}
