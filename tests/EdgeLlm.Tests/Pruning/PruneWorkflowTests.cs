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
        var messages = new List<string>();
        var outcome = PruneWorkflow.Run(new PruneRequest
        {
            Model = Source, Output = dir.Path("out"), Method = PruningMethod.L1, Budget = new PruningBudget.Parameters(full - 5000),
        }, new SynchronousProgress<PruneProgress>(p => messages.Add(p.Message)));
        Assert.True(outcome.Result.ParametersAfter <= full - 5000);
        Assert.True(outcome.Ratio > 0);
        // One step less would not meet the budget.
        Assert.True(PruningShape.ParameterCount(config, PruningMethod.L1, outcome.Ratio - 0.001) > full - 5000);
        Assert.Equal(outcome.Result.ParametersAfter, TensorLayout.ParameterCount(ModelConfig.Load(dir.Path("out", "config.json"))));
        Assert.Contains(messages, m => m.StartsWith("budget → ratio"));
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

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
