namespace EdgeLlm.Profiling.Phone;

/// <summary>A phone log line that is not in a known format; the message names file and line and quotes it.</summary>
public sealed class PhoneLogFormatException(string file, int line, string text, string problem)
    : EdgeLlmException($"{file}:{line}: {problem}: \"{(text.Length > 200 ? text[..200] + "…" : text)}\"")
{
    public string File { get; } = file;
    public int Line { get; } = line;
}
