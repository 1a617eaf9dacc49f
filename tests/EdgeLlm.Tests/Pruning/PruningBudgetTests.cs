using EdgeLlm.Checkpoints;
using EdgeLlm.Profiling;
using EdgeLlm.Pruning;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Pruning;

/// <summary>Ratios derived from budgets: the predicted shapes against real pruned checkpoints, and the smallest ratio that fits.</summary>
public class PruningBudgetTests : TempDirectoryTest
{
    private static string Pydoc => SharedData.Path("fixtures", "trained", "llama-pydoc");

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.45)]
    public void PredictedParameterCountIsWhatTheWriterProduces(double ratio)
    {
        using var source = Checkpoint.Open(Pydoc);
        var plan = StructuredPruner.Plan(source, PruningMethod.L1, ratio);
        var result = PrunedCheckpointWriter.Save(source, plan, Path.Combine(Temp, $"l1-{ratio}"));
        Assert.Equal(result.ParametersAfter, PruningShape.ParameterCount(source.Config, PruningMethod.L1, ratio));
        using var pruned = Checkpoint.Open(result.Directory);
        Assert.Equal(pruned.ParameterCount, PruningShape.ParameterCount(source.Config, PruningMethod.L1, ratio));
    }

    [Fact]
    public void AParameterBudgetGivesTheSmallestRatioUnderIt()
    {
        using var source = Checkpoint.Open(Pydoc);
        var c = source.Config;
        // llama-pydoc: 8 layers, hidden 256, 4 KV groups of 2 query heads × 32, MLP 704, vocab 8192, untied.
        // Removing 1 KV group and 141 channels per layer (ratio 0.2) leaves, per layer,
        // q 192·256 + k,v 2·96·256 + o 256·192 + gate,up,down 3·256·563 + 2 norms·256 = 580,352;
        // ×8 + embedding and head 2·8192·256 + final norm 256 = 8,837,376 (the figure docs/pruning.md reports).
        long budget = 8_837_376;
        double ratio = PruningShape.RatioFor(c, PruningMethod.L1, new PruningBudget.Parameters(budget));
        Assert.True(PruningShape.ParameterCount(c, PruningMethod.L1, ratio) <= budget);
        Assert.True(PruningShape.ParameterCount(c, PruningMethod.L1, ratio - 0.001) > budget);
        Assert.Equal(budget, PruningShape.ParameterCount(c, PruningMethod.L1, 0.2));
    }

    [Fact]
    public void Llama3ShapesFitTheTwelveGigabytePhoneOnlyAfterPruning()
    {
        var c = ModelConfig.Parse(ModelPresets.Config("llama-3-8b"));
        var budget = new PruningBudget.FitsDevice(DeviceProfile.Resolve("phone-12gb"), 4096, RuntimeProfile.MlcLlmAndroid, DType.F16);
        double ratio = PruningShape.RatioFor(c, PruningMethod.WandaSp, budget);
        Assert.True(ratio > 0, "dense Llama-3-8B in FP16 with a 4096-token KV cache should not fit 12 GB");
        Fits(PruningShape.Config(c, PruningMethod.WandaSp, ratio), true);
        Fits(PruningShape.Config(c, PruningMethod.WandaSp, ratio - 0.001), false);

        void Fits(ModelConfig pruned, bool expected)
        {
            var p = MemoryModel.Predict(pruned, new MemoryScenario { Context = 4096, Runtime = RuntimeProfile.MlcLlmAndroid, WeightDType = DType.F16 });
            Assert.Equal(expected, MemoryModel.Fit(p, budget.Device).Fits);
        }
    }

    [Fact]
    public void AnImpossibleBudgetIsAClearError()
    {
        var c = ModelConfig.Parse(ModelPresets.Config("phi-2"));
        var e = Assert.Throws<ArgumentException>(() => PruningShape.RatioFor(c, PruningMethod.ShortGpt, new PruningBudget.Parameters(1000)));
        Assert.Contains("budget", e.Message);
    }
}
