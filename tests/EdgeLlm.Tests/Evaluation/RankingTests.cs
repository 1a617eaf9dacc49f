using EdgeLlm.Tests.Support;
using EdgeLlm.Evaluation.Ranking;

namespace EdgeLlm.Tests.Evaluation;

public class RankingTests
{
    [Fact]
    public void PointsForPlacesWithTies()
    {
        // 90 > 80 = 80 > 70: places 1, 2, 2, 4 -> 10, 9, 9, 7.
        Assert.Equal([10, 9, 9, 7], ChallengeRanking.Points([90, 80, 80, 70]));
        // Twelve entries: places 11 and 12 get nothing; a missing value gets nothing.
        var twelve = Enumerable.Range(0, 12).Select(i => (double?)(100 - i)).Append(null).ToList();
        Assert.Equal([10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0], ChallengeRanking.Points(twelve));
    }

    [Fact]
    public void TotalsDoubleThroughput()
    {
        var ranked = ChallengeRanking.Rank(
        [
            new Submission("a", new Dictionary<string, double> { ["gsm8k"] = 50, ["bbh"] = 30 }, 10),
            new Submission("b", new Dictionary<string, double> { ["gsm8k"] = 60, ["bbh"] = 30 }, 5),
            new Submission("c", new Dictionary<string, double> { ["gsm8k"] = 40 }, 20),
        ]);
        // gsm8k: b 10, a 9, c 8. bbh: a, b tie 10, c none. throughput: c 20, a 18, b 16.
        var a = ranked.Single(r => r.Name == "a");
        Assert.Equal(9 + 10 + 18, a.Total);
        Assert.Equal(10 + 10 + 16, ranked.Single(r => r.Name == "b").Total);
        Assert.Equal(8 + 0 + 20, ranked.Single(r => r.Name == "c").Total);
        Assert.Equal(["a", "b", "c"], ranked.Select(r => r.Name));
        Assert.Equal(18, a.ThroughputPoints);
    }

    [Fact]
    public void OverTheMemoryLimitIsDisqualifiedAndTiesShareTheBetterPlace()
    {
        var ranked = ChallengeRanking.Rank(
        [
            new Submission("a", new Dictionary<string, double> { ["gsm8k"] = 70, ["truthfulqa"] = 0.30 }, 20) { PeakMemoryGb = 9.5 },
            new Submission("b", new Dictionary<string, double> { ["gsm8k"] = 60, ["truthfulqa"] = 0.30 }, 25) { PeakMemoryGb = 11.99 },
            new Submission("c", new Dictionary<string, double> { ["gsm8k"] = 90, ["truthfulqa"] = 0.50 }, 40) { PeakMemoryGb = 12.0 },
            new Submission("d", new Dictionary<string, double> { ["gsm8k"] = 50, ["truthfulqa"] = 0.20 }, 20),
        ]);
        // c is not under 12 GB: out, so places are among a, b, d only.
        // gsm8k: a 10, b 9, d 8. truthfulqa (0-1 scale, ranked on its own): a, b tie 10, d 8. throughput: b 20, a = d tie 18.
        var byName = ranked.ToDictionary(r => r.Name);
        Assert.Equal((10, 10, 18, 38), (byName["a"].TaskPoints["gsm8k"], byName["a"].TaskPoints["truthfulqa"], byName["a"].ThroughputPoints, byName["a"].Total));
        Assert.Equal(9 + 10 + 20, byName["b"].Total);
        Assert.Equal(8 + 8 + 18, byName["d"].Total);
        Assert.Equal(0, byName["c"].Total);
        Assert.Contains("12 GB", byName["c"].Disqualified);
        Assert.All(ranked.Where(r => r.Name != "c"), r => Assert.Null(r.Disqualified));
        Assert.Equal(["b", "a", "d", "c"], ranked.Select(r => r.Name));
    }
}
