using EdgeLlm.Hub;

namespace EdgeLlm.Cli.Commands;

/// <summary>Download progress through <see cref="ProgressPrinter"/>: one bar (or plain line) per file, in bytes.</summary>
internal static class DownloadProgressPrinter
{
    private static readonly Lazy<ProgressPrinter> printer = new(() =>
    {
        var p = ProgressPrinter.Start();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => p.Dispose();
        return p;
    });

    public static IProgress<DownloadProgress> Create() =>
        printer.Value.For<DownloadProgress>(d => ("downloading " + d.File, d.Bytes, d.TotalBytes), "bytes");
}
