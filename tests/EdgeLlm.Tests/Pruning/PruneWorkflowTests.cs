using EdgeLlm.Checkpoints;
using EdgeLlm.Pruning;
using EdgeLlm.Tests.Checkpoints;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Pruning;

/// <summary>The prune workflow as a library call: the ratio from a budget, the checkpoint, the store record, progress.</summary>
public class PruneWorkflowTests
{
    private static readonly string Source = SharedData.Reference("mistral-float32");

    [Fact]
    public void ABudgetGivesTheSmallestRatioThatMeetsIt()
    {
        using var dir = new TempDir();
        var config = ModelConfig.Load(Path.Combine(Source, "config.json"));
        long full = TensorLayout.ParameterCount(config);
        var reports = new List<StageProgress>();
        var outcome = PruneWorkflow.Run(new PruneRequest
        {
            Model = Source, Output = dir.Path("out"), Method = PruningMethod.L1, Budget = new PruningBudget.Parameters(full - 5000),
        }, new InlineProgress<StageProgress>(reports.Add));
        Assert.True(outcome.Result.ParametersAfter <= full - 5000);
        Assert.True(outcome.Ratio > 0);
        // One step less would not meet the budget.
        Assert.True(PruningShape.ParameterCount(config, PruningMethod.L1, outcome.Ratio - 0.001) > full - 5000);
        Assert.Equal(outcome.Result.ParametersAfter, TensorLayout.ParameterCount(ModelConfig.Load(dir.Path("out", "config.json"))));
        // Progress: every layer scored in order, then the written bytes up to the checkpoint's tensor data.
        Assert.Equal(Enumerable.Range(1, config.NumLayers).Select(i => (long)i), reports.Where(r => r.Stage == "scoring").Select(r => r.Done));
        Assert.All(reports.Where(r => r.Stage == "scoring"), r => Assert.Equal((config.NumLayers, "layers"), (r.Total, r.Unit)));
        var writing = reports.Where(r => r.Stage == "writing").ToList();
        using (var written = Checkpoint.Open(dir.Path("out")))
        {
            Assert.Equal(written.Tensors.Count, writing.Count);
            Assert.All(writing, r => Assert.Equal((written.WeightBytes, "bytes"), (r.Total, r.Unit)));
        }
        Assert.Equal(writing[^1].Total, writing[^1].Done);
        Assert.True(writing.Zip(writing.Skip(1)).All(p => p.First.Done < p.Second.Done));
        Assert.Equal(["scoring", "writing"], reports.Select(r => r.Stage).Distinct());
        Assert.Equal("l1", outcome.Run.Run.Method);
    }

    [Fact]
    public void ARatioAndABudgetTogetherAreRefused()
    {
        using var dir = new TempDir();
        Assert.Throws<ArgumentException>(() => PruneWorkflow.Run(new PruneRequest
        {
            Model = Source, Output = dir.Path("out"), Method = PruningMethod.L1, Ratio = 0.5, Budget = new PruningBudget.Parameters(1),
        }));
        Assert.False(Directory.Exists(dir.Path("out")));
    }

    [Fact]
    public void AMethodThatNeedsCalibrationSaysSoBeforeWriting()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ArgumentException>(() => PruneWorkflow.Run(new PruneRequest
        {
            Model = Source, Output = dir.Path("out"), Method = PruningMethod.WandaSp, Ratio = 0.5,
        }));
        Assert.Contains("needs calibration", e.Message);
        Assert.False(Directory.Exists(dir.Path("out")));
    }

}
