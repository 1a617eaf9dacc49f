namespace EdgeLlm.Checkpoints;

/// <summary>A checkpoint file or folder is malformed; the message names the file and the problem.</summary>
public sealed class CheckpointFormatException(string path, string problem, Exception? inner = null)
    : EdgeLlmException($"{path}: {problem}", inner)
{
    public string Path { get; } = path;
    public string Problem { get; } = problem;
}
