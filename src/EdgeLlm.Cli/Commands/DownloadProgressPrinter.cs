using System.Diagnostics;
using EdgeLlm.Hub;

namespace EdgeLlm.Cli.Commands;

/// <summary>Prints download progress on stderr, at most about once a second, so stdout stays clean for --json.</summary>
internal sealed class DownloadProgressPrinter : IProgress<DownloadProgress>
{
    private readonly Stopwatch sinceLast = Stopwatch.StartNew();
    private readonly Lock gate = new();

    public static IProgress<DownloadProgress> Create() => new DownloadProgressPrinter();

    public void Report(DownloadProgress value)
    {
        lock (gate)
        {
            bool finished = value.TotalBytes > 0 && value.Bytes >= value.TotalBytes;
            if (sinceLast.ElapsedMilliseconds < 1000 && !finished) return;
            sinceLast.Restart();
            Console.Error.WriteLine(value.TotalBytes > 0
                ? $"downloading: {Output.Bytes(value.Bytes)} of {Output.Bytes(value.TotalBytes)} ({100.0 * value.Bytes / value.TotalBytes:F0}%), {value.File}"
                : $"downloading: {Output.Bytes(value.Bytes)}, {value.File}");
        }
    }
}
