using EdgeLlm.Profiling.Phone;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Profiling;

/// <summary>
/// Sample logs in Logs/ are written from the strings MLC-LLM prints (mlc-ai/mlc-llm @ 79d603f):
/// python/mlc_llm/interface/chat.py get_stats_text ("prefill: {:.1f} tok/s, decode: {:.1f} tok/s", "N/A" when absent),
/// android/mlc4j/.../OpenAIProtocol.kt CompletionUsageExtra.asTextLabel (omits an absent part), and
/// cpp/serve/metrics.cc RequestMetrics::AsUsageJSONStr (usage with "extra" metrics); logcat lines in -v threadtime layout.
/// </summary>
public class PhoneLogTests
{
    private static string Log(string name) => Path.Combine(SharedData.RepoRoot, "tests", "EdgeLlm.Tests", "Profiling", "Logs", name);
    private static readonly DateTimeOffset now = new(2026, 7, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ChatCliStatsLinesGiveDecodeOnlyTpot()
    {
        var r = PhoneLogImporter.Import(Log("mlc-chat-cli-stats.txt"), "phi-2", "phone-12gb", "run-1", now);
        Assert.Equal(2, r.Count); // the all-"N/A" line measured nothing
        Assert.Equal(52.3, r[0].PrefillTokensPerSecond);
        Assert.Equal(8.7, r[0].DecodeTokensPerSecond);
        Assert.Equal(1000 / 8.7, r[0].TpotMs!.Value, 9); // 114.94 ms: no token counts, so decode-only
        Assert.Equal(TpotBasis.DecodeOnly, r[0].TpotBasis);
        Assert.Equal(2, r[0].SourceLine);
        Assert.Equal(6, r[1].SourceLine);
        Assert.All(r, m => Assert.Equal(("phi-2", "phone-12gb", "run-1"), (m.Model, m.Device, m.RunId)));
    }

    [Fact]
    public void LogcatCaptureKeepsOnlyStatsLinesWithTheirTimes()
    {
        var r = PhoneLogImporter.Import(Log("mlc-android-logcat.txt"), "phi-2", "phone-12gb", null, now);
        Assert.Equal(3, r.Count);
        Assert.Equal("07-23 10:15:09.517", r[0].LoggedAt);
        Assert.Equal((38.2, 11.6), (r[0].PrefillTokensPerSecond!.Value, r[0].DecodeTokensPerSecond!.Value));
        Assert.Null(r[1].PrefillTokensPerSecond); // the Android label leaves out an absent prefill
        Assert.Equal(11.9, r[1].DecodeTokensPerSecond);
        // Usage JSON with end_to_end_latency_s: 9.2 s / 64 completion tokens = 143.75 ms (the challenge's TPOT).
        Assert.Equal("mlc-usage-json", r[2].Format);
        Assert.Equal(143.75, r[2].TpotMs!.Value, 9);
        Assert.Equal(TpotBasis.EndToEnd, r[2].TpotBasis);
        Assert.Equal((128, 64), (r[2].PromptTokens!.Value, r[2].CompletionTokens!.Value));
        Assert.StartsWith("20260701T120000Z-", r[0].RunId);
    }

    [Fact]
    public void UsageWithoutLatencyTakesTpotFromRatesAndCounts()
    {
        // prefill 100 tokens at 50 tok/s = 2 s; decode 50 tokens at 10 tok/s = 5 s; 7 s / 51 tokens = 137.2549 ms
        var r = PhoneLogImporter.Import(Log("mlc-usage.jsonl"), "m", "d", "r", now);
        Assert.Equal(7000.0 / 51, Assert.Single(r).TpotMs!.Value, 9);
        Assert.Equal(TpotBasis.FromRates, r[0].TpotBasis);
    }

    [Fact]
    public void HarnessCsvRowsCarryTheirOwnModelAndRun()
    {
        var r = PhoneLogImporter.Import(Log("harness.csv"), "cli-model", "phone-12gb", null, now);
        Assert.Equal(2, r.Count);
        Assert.Equal(("phi-2-pruned", "r1"), (r[0].Model, r[0].RunId));
        // 128 / 45.5 + 63 / 12.5 = 2.8131868 + 5.04 = 7.8531868 s over 64 tokens
        Assert.Equal((128 / 45.5 + 63 / 12.5) * 1000 / 64, r[0].TpotMs!.Value, 9);
        Assert.Equal(95.25, r[1].TpotMs);
        Assert.Equal(TpotBasis.Reported, r[1].TpotBasis);
        Assert.Equal(3, r[1].SourceLine);
    }

    [Fact]
    public void UnparseableStatsLineIsQuotedWithFileAndLine()
    {
        var file = Log("bad-stats.txt");
        var e = Assert.Throws<PhoneLogFormatException>(() => PhoneLogImporter.Import(file, "m", "d"));
        Assert.Equal(2, e.Line);
        Assert.Contains($"{file}:2:", e.Message);
        Assert.Contains("\"decode speed 9 tok/s (approx)\"", e.Message);
    }

    [Fact]
    public void BadCsvCellIsQuoted()
    {
        var e = Assert.Throws<PhoneLogFormatException>(() => PhoneLogImporter.Import(Log("bad-harness.csv"), "m", "d"));
        Assert.Equal(3, e.Line);
        Assert.Contains("decode_tokens_per_s 'fast' is not a number", e.Message);
        Assert.Contains("\"40.5,fast\"", e.Message);
    }

    [Fact]
    public void FileWithoutStatisticsIsAnErrorQuotingItsFirstLine()
    {
        var e = Assert.Throws<PhoneLogFormatException>(() => PhoneLogImporter.Import(Log("no-stats.txt"), "m", "d"));
        Assert.Contains("\"The model said hello.\"", e.Message);
    }

    [Fact]
    public void UnknownCsvColumnIsAnError()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            var f = Path.Combine(dir, "x.csv");
            File.WriteAllText(f, "decode_tokens_per_s,speedup\n10,2\n");
            Assert.Contains("unknown column(s) speedup", Assert.Throws<PhoneLogFormatException>(() => PhoneLogImporter.Import(f, "m", "d")).Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void StoreAppendsJsonLinesThatReadBack()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            var store = Path.Combine(dir, "results", "phone.jsonl");
            var a = PhoneLogImporter.Import(Log("mlc-chat-cli-stats.txt"), "phi-2", "phone-12gb", "a", now);
            var b = PhoneLogImporter.Import(Log("harness.csv"), "x", "phone-12gb", "b", now);
            PhoneMeasurementStore.Append(store, a);
            PhoneMeasurementStore.Append(store, b);
            var lines = File.ReadAllLines(store);
            Assert.Equal(4, lines.Length);
            Assert.Contains("\"decode_tokens_per_second\":8.7", lines[0]);
            Assert.Equal(a.Concat(b).ToList(), PhoneMeasurementStore.Read(store));
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(store)!)); // no temp file left behind
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AdbDevicesOutputIsParsed()
    {
        // adb's documented layout: header, then serial<TAB>state; daemon notices start with '*'.
        var devices = Adb.ParseDevices("* daemon not running; starting now at tcp:5037\n* daemon started successfully\nList of devices attached\nemulator-5554\tdevice\n0123456789ABCDEF\tunauthorized\n\n");
        Assert.Equal([new AdbDevice("emulator-5554", "device"), new AdbDevice("0123456789ABCDEF", "unauthorized")], devices);
        Assert.Empty(Adb.ParseDevices("List of devices attached\n\n"));
    }

    [Fact]
    public void PhoneRunWithoutAdbSaysSo()
    {
        var empty = Directory.CreateTempSubdirectory().FullName;
        try
        {
            Assert.Null(Adb.Find(empty));
            var e = Assert.Throws<InvalidOperationException>(() => PhoneRunner.Connect(path: empty));
            Assert.Contains("adb is not on PATH", e.Message);
        }
        finally { Directory.Delete(empty, true); }
    }
}
