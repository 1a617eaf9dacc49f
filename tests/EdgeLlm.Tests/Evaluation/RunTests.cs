using EdgeLlm.Tests.Support;
using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Evaluation.Tasks;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>A model that answers from the prompt alone (deterministic), counting the prompts it saw.</summary>
internal sealed class ScriptedModel(Func<string, string> answer) : IEvaluationModel
{
    public int Prompts;
    public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationRequest request, CancellationToken cancellationToken = default)
    {
        Interlocked.Add(ref Prompts, prompts.Count);
        return prompts.Select(answer).ToList();
    }
    public IReadOnlyList<double> LogLikelihoods(string context, IReadOnlyList<string> continuations, CancellationToken cancellationToken = default) =>
        continuations.Select(c => -(double)c.Length).ToList();
}

public class RunTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("edgellm-eval-").FullName;
    public void Dispose() => Directory.Delete(temp, recursive: true);

    private static IEvaluationTask Csqa() => new CommonsenseQaTask(SharedData.Path("datasets", "commonsenseqa", "dev_rand_split.jsonl"));

    // Answers "A" when the question's length is even, "B. …" otherwise: right on some questions, wrong on others.
    private static ScriptedModel Model() => new(p => p.Length % 2 == 0 ? "A" : "the answer is B");

    [Fact]
    public void ShardsTogetherGiveTheWholeRun()
    {
        var whole = new EvaluationRunner(Model(), new RunDirectory(Path.Combine(temp, "whole"))).Run(Csqa(), new RunOptions(Limit: 40));
        var shardDirs = Enumerable.Range(1, 3).Select(k => new RunDirectory(Path.Combine(temp, $"s{k}"))).ToList();
        for (int k = 1; k <= 3; k++)
            new EvaluationRunner(Model(), shardDirs[k - 1]).Run(Csqa(), new RunOptions(Limit: 40, Shard: new Shard(k, 3)));
        Assert.Equal(14, shardDirs[0].ReadRecordsOf("csqa").Count); // indices 0,3,…,39
        Assert.All(shardDirs[1].ReadRecordsOf("csqa"), r => Assert.Equal(1, r.Index % 3));
        var merged = EvaluationRunner.Merge(Csqa(), shardDirs);
        Assert.Equal(40, whole.Summary.Samples);
        Assert.Equal(whole.Summary.Score, merged.Score, 12);
        Assert.Equal(40, merged.Samples);
        // The score is the real accuracy of those answers: recompute it from the data.
        var samples = Csqa().LoadSamples().Take(40).ToList();
        double expected = 100.0 * samples.Count(s => (s.Prompt.Length % 2 == 0 ? "A" : "B") == s.Reference) / 40;
        Assert.Equal(expected, whole.Summary.Score, 12);
        Assert.InRange(expected, 1, 99);
    }

    [Fact]
    public void InferThenScoreWithoutAModelGivesTheRecordsOfOneRun()
    {
        var whole = new EvaluationRunner(Model(), new RunDirectory(Path.Combine(temp, "one-pass"))).Run(Csqa(), new RunOptions(Limit: 12));
        var dir = new RunDirectory(Path.Combine(temp, "split"));
        var generator = Model();
        var inferred = new EvaluationRunner(generator, dir).Infer(Csqa(), new RunOptions(Limit: 12));
        Assert.Equal((12, 12, 0), (inferred.Selected, inferred.NewPredictions, inferred.Skipped));
        Assert.Empty(dir.ReadRecordsOf("csqa")); // nothing scored yet
        Assert.Equal(12, dir.ReadPredictionsOf("csqa").Count);
        // A second inference call finds every prediction there.
        var again = Model();
        Assert.Equal(0, new EvaluationRunner(again, dir).Infer(Csqa(), new RunOptions(Limit: 12)).NewPredictions);
        Assert.Equal(0, again.Prompts);

        var scored = new EvaluationRunner(null, dir).Run(Csqa(), new RunOptions(Limit: 12));
        Assert.Equal(whole.Summary.Score, scored.Summary.Score, 12);
        static List<(string, string, string, string, double)> Of(RunDirectory d) =>
            d.ReadRecordsOf("csqa").OrderBy(r => r.Index).Select(r => (r.Id, r.Prompt, r.Output, r.Extracted, r.Score)).ToList();
        Assert.Equal(Of(new RunDirectory(Path.Combine(temp, "one-pass"))), Of(dir));
    }

    [Fact]
    public void ScoringWithoutAModelNamesTheSamplesThatHaveNoPrediction()
    {
        var dir = new RunDirectory(Path.Combine(temp, "partial"));
        new EvaluationRunner(Model(), dir).Infer(Csqa(), new RunOptions(Limit: 5));
        var e = Assert.Throws<MissingPredictionsException>(() => new EvaluationRunner(null, dir).Run(Csqa(), new RunOptions(Limit: 8)));
        Assert.Contains(dir.PredictionsFolder, e.Message);
        Assert.Contains("3 of the 8 selected csqa samples", e.Message);
        Assert.Empty(dir.ReadRecordsOf("csqa")); // refused before scoring any
        // With a model, the run scores the five predictions and generates only the other three.
        var model = Model();
        var run = new EvaluationRunner(model, dir).Run(Csqa(), new RunOptions(Limit: 8));
        Assert.Equal(3, model.Prompts);
        Assert.Equal(8, run.Summary.Samples);
    }

    [Fact]
    public void ResumeAfterACrashMidLineLosesAndRepeatsNothing()
    {
        var dir = new RunDirectory(Path.Combine(temp, "crash"));
        var first = Model();
        new EvaluationRunner(first, dir).Run(Csqa(), new RunOptions(Limit: 10));
        var path = dir.RecordsPath("csqa");
        var bytes = File.ReadAllBytes(path);
        // Keep 6 whole records and half of the 7th, as a kill during a write leaves them.
        int cut = 0, lines = 0;
        while (lines < 6) if (bytes[cut++] == (byte)'\n') lines++;
        File.WriteAllBytes(path, bytes[..(cut + 25)]);
        Assert.Equal(6, RunDirectory.ReadRecords(path).Count);

        var second = Model();
        var resumed = new EvaluationRunner(second, dir).Run(Csqa(), new RunOptions(Limit: 10));
        Assert.Equal(4, second.Prompts);
        Assert.Equal(6, resumed.Skipped);
        var records = dir.ReadRecordsOf("csqa");
        Assert.Equal(Enumerable.Range(0, 10), records.Select(r => r.Index));
        var fresh = new EvaluationRunner(Model(), new RunDirectory(Path.Combine(temp, "fresh"))).Run(Csqa(), new RunOptions(Limit: 10));
        Assert.Equal(fresh.Summary.Score, resumed.Summary.Score, 12);

        // A finished run does nothing on a rerun.
        var third = Model();
        new EvaluationRunner(third, dir).Run(Csqa(), new RunOptions(Limit: 10));
        Assert.Equal(0, third.Prompts);
    }

    [Fact]
    public void RecordsCarryPromptOutputExtractedReferenceAndScore()
    {
        var dir = new RunDirectory(Path.Combine(temp, "fields"));
        new EvaluationRunner(new ScriptedModel(_ => " I think B."), dir).Run(Csqa(), new RunOptions(Limit: 1));
        var line = File.ReadAllLines(dir.RecordsPath("csqa")).Single();
        using var doc = System.Text.Json.JsonDocument.Parse(line);
        var r = doc.RootElement;
        Assert.StartsWith("A revolving door is convenient for two direction travel", r.GetProperty("prompt").GetString());
        Assert.EndsWith("\nE. new york\nAnswer:", r.GetProperty("prompt").GetString());
        Assert.Equal(" I think B.", r.GetProperty("output").GetString());
        Assert.Equal("I", r.GetProperty("extracted").GetString()); // first_capital_postprocess finds the "I" first
        Assert.Equal("A", r.GetProperty("reference").GetString());
        Assert.Equal(0, r.GetProperty("score").GetDouble());
        Assert.Equal("csqa/0", r.GetProperty("id").GetString());
    }

    [Fact]
    public void ShardSyntax()
    {
        Assert.Equal(new Shard(2, 4), Shard.Parse("2/4"));
        Assert.Throws<FormatException>(() => Shard.Parse("5/4"));
        Assert.Throws<FormatException>(() => Shard.Parse("0/4"));
        Assert.Throws<FormatException>(() => Shard.Parse("x"));
    }
}
