using System.Text.Json;
using EdgeLlm.Evaluation.Tasks;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>
/// Every LongBench subset's post-processing and metric against OpenCompass 0.3.1's evaluators run on the
/// same predictions with the real rouge, jieba and fuzzywuzzy packages
/// (References/longbench-metrics.json, made by tools/reference/longbench_metrics.py).
/// </summary>
public class LongBenchReferenceTests
{
    private static readonly JsonElement reference =
        SharedData.ReferenceJson("longbench-metrics.json");

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();

    private static IEnumerable<(LongBenchSubset Subset, JsonElement Case, double Score)> ScoredCases() =>
        reference.GetProperty("cases").EnumerateArray().Select(c =>
        {
            var subset = LongBenchSubsets.All.Single(s => s.Name == c.GetProperty("subset").GetString());
            var extracted = LongBenchTask.Extract(subset, c.GetProperty("prediction").GetString()!);
            Assert.Equal(c.GetProperty("extracted").GetString(), extracted);
            var answers = new LongBenchTask.Reference(Strings(c.GetProperty("answers")), Strings(c.GetProperty("all_classes")));
            return (subset, c, LongBenchTask.ScoreOutput(subset, extracted, answers) * 100);
        });

    [Fact]
    public void EverySubsetIsCovered() =>
        Assert.Equal(LongBenchSubsets.All.Select(s => s.Name).Order(), reference.GetProperty("subsets").EnumerateObject().Select(p => p.Name).Order());

    [Fact]
    public void EachCaseScoresAsOpenCompass()
    {
        var failures = ScoredCases()
            .Where(x => Math.Abs(x.Score - x.Case.GetProperty("score").GetDouble()) > 1e-9)
            .Select(x => $"{x.Subset.Name} {JsonSerializer.Serialize(x.Case.GetProperty("prediction").GetString())[..Math.Min(80, x.Case.GetProperty("prediction").GetString()!.Length + 2)]}: " +
                         $"OpenCompass {x.Case.GetProperty("score").GetDouble():R}, EdgeLlm {x.Score:R}")
            .ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void SubsetMeansMatchOpenCompass()
    {
        foreach (var group in ScoredCases().GroupBy(x => x.Subset.Name))
        {
            var expected = reference.GetProperty("subsets").GetProperty(group.Key).GetProperty("score").GetDouble();
            Assert.True(Math.Abs(group.Average(x => x.Score) - expected) < 1e-9, $"{group.Key}: OpenCompass {expected:R}, EdgeLlm {group.Average(x => x.Score):R}");
        }
    }
}
