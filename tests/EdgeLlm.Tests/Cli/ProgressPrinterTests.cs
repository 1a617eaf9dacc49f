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

/// <summary>The long commands report the library's stage progress on stderr as plain lines when it is redirected; stdout keeps the JSON.</summary>
public sealed class LongCommandProgressTests : EdgeLlm.Tests.Support.TempDirectoryTest
{
    private static string Demo => Path.Combine(EdgeLlm.Tests.Support.SharedData.RepoRoot, "data", "demo-model");

    private static string[] Lines(EdgeLlm.Tests.Support.CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var _ = System.Text.Json.JsonDocument.Parse(r.Stdout);         // stdout is one JSON object
        return r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    [Fact]
    public void Prune_reports_layers_scored_and_bytes_written()
    {
        int layers = EdgeLlm.Checkpoints.ModelConfig.Load(Path.Combine(Demo, "config.json")).NumLayers;
        var output = Path.Combine(Temp, "pruned");
        var lines = Lines(EdgeLlm.Tests.Support.CliRunner.Run("prune", Demo, "--method", "l1", "--ratio", "0.5", "--out", output, "--json"));
        Assert.Contains($"scoring: {layers}/{layers} layers (100%)", lines.Select(l => l.Split(',')[0]));
        using var written = EdgeLlm.Checkpoints.Checkpoint.Open(output);
        var bytes = $"{Output.Bytes(written.WeightBytes)}/{Output.Bytes(written.WeightBytes)} (100%)";
        Assert.Contains($"writing: {bytes}", lines.Select(l => l.Split(',')[0]));
    }

    [Fact]
    public void Pack_reports_documents_tokenized()
    {
        var data = EdgeLlm.Tests.Support.SharedData.Path("datasets", "c4-format-pydoc", "c4-format-validation.00000-of-00001.json.gz");
        int documents = EdgeLlm.Calibration.TextDocuments.Read(data).Count;
        var lines = Lines(EdgeLlm.Tests.Support.CliRunner.Run("pack", "--data", data, "--tokenizer", Demo, "--seqlen", "64", "--out", Path.Combine(Temp, "packed"), "--json"));
        Assert.Equal($"tokenizing: {documents}/{documents} documents (100%)", lines[^1].Split(',')[0]);
    }

    [Fact]
    public void Bench_reports_the_machine_probes_warm_up_and_runs()
    {
        var lines = Lines(EdgeLlm.Tests.Support.CliRunner.Run("bench", Demo, "--prompt-tokens", "4", "--new-tokens", "2", "--repeats", "2", "--warmup", "1", "--json"));
        var firsts = lines.Select(l => l.Split(',')[0]).ToList();
        Assert.Contains("machine limits: 2/2 probes (100%)", firsts);
        Assert.Contains("warm-up: 1/1 runs (100%)", firsts);
        Assert.Contains("runs: 2/2 runs (100%)", firsts);
        Assert.True(firsts.IndexOf("machine limits: 2/2 probes (100%)") < firsts.IndexOf("runs: 2/2 runs (100%)"));
    }
}
