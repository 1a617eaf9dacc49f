using System.Text.Json;
using EdgeLlm.Evaluation.Metrics;
using EdgeLlm.Evaluation.Sandbox;

namespace EdgeLlm.Evaluation.Tasks;

/// <summary>
/// HumanEval as OpenCompass's humaneval_gen (humaneval_gen_8e312c): "Complete the following python code:\n{prompt}",
/// generation up to 512 tokens, humaneval_postprocess_v2, then human-eval's check: the problem's prompt +
/// completion + "\n" + test + "\n" + "check(entry_point)" run with a 3-second timeout; pass@1 with one
/// greedy sample per problem is the fraction that pass.
/// </summary>
public sealed class HumanEvalTask(string problemFile, PythonSandbox? sandbox = null) : IEvaluationTask
{
    public sealed record Problem(string TaskId, string Prompt, string Test, string EntryPoint);

    private readonly PythonSandbox sandbox = sandbox ?? new PythonSandbox();

    public string Name => "humaneval";

    /// <summary><see cref="SandboxUnavailableException"/> when model-written code could not be run in the sandbox here.</summary>
    public void EnsureCanScore() => sandbox.EnsureAvailable();

    public IReadOnlyList<EvalSample> LoadSamples()
    {
        var request = new GenerationRequest(512, []);
        return DatasetFiles.JsonLines(problemFile).Select(item =>
        {
            var problem = new Problem(DatasetFiles.Text(item.Value, "task_id", problemFile, item.Line), DatasetFiles.Text(item.Value, "prompt", problemFile, item.Line),
                DatasetFiles.Text(item.Value, "test", problemFile, item.Line), DatasetFiles.Text(item.Value, "entry_point", problemFile, item.Line));
            return new EvalSample(problem.TaskId, "openai_humaneval", "Complete the following python code:\n" + problem.Prompt, JsonSerializer.Serialize(problem), request);
        }).ToList();
    }

    /// <summary>human_eval/execution.py check_correctness: the program that is run.</summary>
    public static string CheckProgram(Problem problem, string completion) =>
        problem.Prompt + completion + "\n" + problem.Test + "\n" + $"check({problem.EntryPoint})";

    public SampleRecord Score(EvalSample sample, int index, string output)
    {
        var problem = JsonSerializer.Deserialize<Problem>(sample.Reference)!;
        var completion = OpenCompassPostprocessors.HumanEvalV2(output);
        var result = sandbox.Run(CheckProgram(problem, completion));
        return Records.Make(Name, sample, index, output, completion, result.Passed ? 1 : 0,
            new() { ["timed_out"] = result.TimedOut ? 1 : 0, ["exit_code"] = result.ExitCode ?? -1 });
    }

    /// <summary>humaneval_1 = pass@1 × 100 over problems (one sample each: the fraction passed).</summary>
    public TaskSummary Summarize(IReadOnlyList<SampleRecord> records)
    {
        double pass1 = records.Count == 0 ? 0 : records.Average(r => PassAtK.Estimate(1, (int)r.Score, 1)) * 100;
        return new TaskSummary(Name, pass1, records.Count, new Dictionary<string, double> { ["openai_humaneval"] = pass1 },
            new Dictionary<string, double> { ["humaneval_1"] = pass1 });
    }
}
