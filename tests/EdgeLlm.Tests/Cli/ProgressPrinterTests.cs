using EdgeLlm.Cli.Commands;

namespace EdgeLlm.Tests.Cli;

public sealed class ProgressPrinterTests
{
    [Fact]
    public void A_plain_line_gives_count_share_rate_and_time_left()
    {
        // 32 of 128 in 8 s: 4 per second, 96 left, so 24 s.
        Assert.Equal("calibration: 32/128 samples (25%), 4 samples/s, ETA 24 s", ProgressPrinter.PlainLine("calibration", 32, 128, 8.0, "samples"));
        // 3 of 1000 in 60 s: 0.05 per second, 997 left: 19,940 s = 5.5 h.
        Assert.Equal("gsm8k: 3/1000 items (0%), 0.05 items/s, ETA 5.5 h", ProgressPrinter.PlainLine("gsm8k", 3, 1000, 60.0));
        Assert.Equal("downloading f: 1.0 MiB/4.0 MiB (25%), 512.0 KiB/s, ETA 6 s", ProgressPrinter.PlainLine("downloading f", 1 << 20, 4 << 20, 2.0, "bytes"));
        Assert.Equal("x: 5 items", ProgressPrinter.PlainLine("x", 5, 0, 0));
        // 4 samples were done at the first report (a first batch, or resumed from disk): only the 12 since then count.
        Assert.Equal("csqa: 16/40 samples (40%), 3 samples/s, ETA 8 s", ProgressPrinter.PlainLine("csqa", 16, 40, 4.0, "samples", doneAtStart: 4));
        Assert.Equal("csqa: 4/40 samples (10%)", ProgressPrinter.PlainLine("csqa", 4, 40, 0.001, "samples", doneAtStart: 4));
    }

    [Fact]
    public void Redirected_output_gets_the_first_report_then_at_most_one_line_per_interval_and_the_last()
    {
        var writer = new StringWriter();
        using (var printer = ProgressPrinter.Plain(writer))
        {
            var progress = printer.For<(int Done, int Total)>(p => ("task", p.Done, p.Total));
            for (int i = 1; i <= 100; i++) progress.Report((i, 100));   // far quicker than the 3 s interval
        }
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("task: 1/100 items (1%)", lines[0]);
        Assert.StartsWith("task: 100/100 items (100%)", lines[1]);
        Assert.DoesNotContain("ETA", lines[1]);
    }
}
