using EdgeLlm.Profiling.Phone;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Profiling;

/// <summary>The challenge's throughput score, worked by hand from a logcat capture in MLC-LLM's usage-JSON format.</summary>
public class PhoneThroughputScoreTests
{
    private static string Log(string name) => Path.Combine(SharedData.RepoRoot, "tests", "EdgeLlm.Tests", "Profiling", "Logs", name);
    private static readonly DateTimeOffset now = new(2026, 7, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ScoreAveragesRunsPerPromptLengthThenPrefillAndDecode()
    {
        var records = PhoneLogImporter.Import(Log("mlc-prompt-lengths-logcat.txt"), "phi-2", "huawei-mate-60-pro-plus", "r1", now);
        Assert.Equal(5, records.Count);
        var s = PhoneThroughputScore.Compute(records);
        // Lengths 64: (40, 10); 128: two runs (50, 9) and (54, 11) -> (52, 10); 256: (60, 8). The decode-only line has no prefill.
        // prefill (40 + 52 + 60) / 3 = 50.667, decode (10 + 10 + 8) / 3 = 9.333, score (50.667 + 9.333) / 2 = 30.
        Assert.Equal(152.0 / 3, s.MeanPrefillTokensPerSecond, 9);
        Assert.Equal(28.0 / 3, s.MeanDecodeTokensPerSecond, 9);
        Assert.Equal(30.0, s.Score, 9);
        Assert.Equal((3, 4), (s.PromptLengths, s.Measurements));
        // Averaging the four runs flat would give (51 + 9.5) / 2 = 30.25: the per-length step matters.
        Assert.All(PhoneThroughputScore.Attach(records), r => Assert.Equal(30.0, r.ThroughputScore!.Value, 9));
    }

    [Fact]
    public void ScoreIsStoredWithTheMeasurementsAndReadBackByRun()
    {
        var dir = Directory.CreateTempSubdirectory("edgellm-score-");
        try
        {
            var path = Path.Combine(dir.FullName, "phone.jsonl");
            PhoneMeasurementStore.Append(path, PhoneThroughputScore.Attach(PhoneLogImporter.Import(Log("mlc-prompt-lengths-logcat.txt"), "m", "d", "r1", now)));
            PhoneMeasurementStore.Append(path, PhoneThroughputScore.Attach(PhoneLogImporter.Import(Log("mlc-usage.jsonl"), "m", "d", "r2", now)));
            Assert.Contains("\"throughput_score\":30", File.ReadAllText(path));
            Assert.Equal(30.0, PhoneThroughputScore.ForRun(path, "r1").Score, 9);
            Assert.Equal((50.0 + 10.0) / 2, PhoneThroughputScore.ForRun(path, "r2").Score, 9);
            var e = Assert.Throws<ArgumentException>(() => PhoneThroughputScore.ForRun(path, "r3"));
            Assert.Contains("'r3'", e.Message);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void RunWithoutBothRatesHasNoScore()
    {
        var records = PhoneLogImporter.Import(Log("mlc-android-logcat.txt"), "m", "d", "r", now).Where(r => r.PrefillTokensPerSecond is null).ToList();
        Assert.Throws<ArgumentException>(() => PhoneThroughputScore.Compute(records));
        Assert.Null(Assert.Single(PhoneThroughputScore.Attach(records)).ThroughputScore);
    }
}
