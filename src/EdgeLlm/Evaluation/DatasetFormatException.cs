namespace EdgeLlm.Evaluation;

/// <summary>A dataset file is not in its published format; the message names the file and line.</summary>
public sealed class DatasetFormatException(string file, int line, string problem, Exception? inner = null)
    : EdgeLlmException($"{file}:{line}: {problem}", inner)
{
    public string File { get; } = file;
    public int Line { get; } = line;
}
