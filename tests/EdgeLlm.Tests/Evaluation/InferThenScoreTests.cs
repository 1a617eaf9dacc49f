using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>
/// `eval --mode infer` on a machine without HumanEval's sandbox (no bwrap on PATH), then `eval --mode eval` where it is:
/// the split OpenCompass's infer and eval modes make, as a GPU machine without bubblewrap needs.
/// </summary>
public class InferThenScoreTests : TempDirectoryTest
{
    [Fact]
    public void HumanEvalGeneratedWithoutTheSandboxIsScoredLaterWhereItIs()
    {
        var model = SharedData.Path("fixtures", "trained", "llama-pydoc");
        var run = Path.Combine(Temp, "run");
        string[] common = ["eval", model, "--protocol", "kit-2024-base", "--tasks", "humaneval", "--limit", "2", "--data", SharedData.Path("datasets"), "--out", run];
        var noSandbox = new Dictionary<string, string> { ["PATH"] = Path.Combine(Temp, "empty-path") };

        var refused = CliRunner.RunWith([], noSandbox, common);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("bubblewrap", refused.Stderr);

        var inferred = CliRunner.RunWith([], noSandbox, [.. common, "--mode", "infer", "--json"]);
        Assert.True(inferred.ExitCode == 0, inferred.Stderr);
        var folder = new RunDirectory(run);
        Assert.Equal(2, folder.ReadPredictionsOf("humaneval").Count);
        Assert.Empty(folder.ReadRecordsOf("humaneval"));

        // The scoring machine has the model's config and tokenizer, not its weights; the results store takes the run too.
        var light = Path.Combine(Temp, "no-weights");
        Directory.CreateDirectory(light);
        foreach (var f in Directory.GetFiles(model).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
            File.Copy(f, Path.Combine(light, Path.GetFileName(f)));
        string[] scoring = [.. common, "--mode", "eval", "--json", "--store", Path.Combine(Temp, "results.db")];
        scoring[1] = light;
        var scored = CliRunner.Run(scoring);
        Assert.True(scored.ExitCode == 0, scored.Stderr);
        var records = folder.ReadRecordsOf("humaneval");
        Assert.Equal(2, records.Count);
        var predictions = folder.ReadPredictionsOf("humaneval").ToDictionary(p => p.Id);
        Assert.All(records, r => Assert.Equal(predictions[r.Id].Output, r.Output));
        Assert.Equal(2, scored.Json.GetProperty("tasks").GetProperty("humaneval").GetProperty("samples").GetInt32());
    }
}
