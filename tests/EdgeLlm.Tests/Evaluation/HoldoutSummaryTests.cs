using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Tasks;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>
/// MMLU's and C-Eval's task scores are the summarizer groups `mmlu` and `ceval` of OpenCompass 0.3.1
/// (configs/summarizers/groups/{mmlu,ceval}.py): a plain mean of the subject accuracies, not `mmlu-weighted`.
/// Worked by hand: subject 1 has 1/1 right (100), subject 2 has 1/4 right (25) → naive 62.5 (weighted would be 40).
/// </summary>
public class HoldoutSummaryTests
{
    private static SampleRecord Record(string task, string subset, int index, bool right) => new()
    {
        Task = task, Subset = subset, Id = $"{task}/{subset}/{index}", Index = index, Prompt = "p", Output = right ? "A" : "B",
        Extracted = right ? "A" : "B", Reference = "A", Score = right ? 1 : 0,
    };

    [Theory]
    [InlineData("mmlu", "lukaemon_mmlu_abstract_algebra", "lukaemon_mmlu_anatomy")]
    [InlineData("ceval", "ceval-accountant", "ceval-law")]
    public void TaskScoreIsTheNaiveMeanOfSubjects(string task, string first, string second)
    {
        IEvaluationTask t = task == "mmlu" ? new MmluTask("unused", 256) : new CevalTask("unused", 256);
        var records = new[] { Record(task, first, 0, true), Record(task, second, 1, true), Record(task, second, 2, false),
                              Record(task, second, 3, false), Record(task, second, 4, false) };
        var summary = t.Summarize(records);
        Assert.Equal(62.5, summary.Score, 9);
        Assert.Equal(100, summary.Subsets[first], 9);
        Assert.Equal(25, summary.Subsets[second], 9);
        Assert.Equal(5, summary.Samples);
    }
}
