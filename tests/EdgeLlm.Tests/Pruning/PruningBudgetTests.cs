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
    public void UniformLlamaHeadCountsAreOnesTransformersAccepts()
    {
        // transformers 5.17 LlamaConfig.validate_architecture: hidden_size % num_attention_heads must be 0
        // (seen refusing a 6-head, 256-wide pruned folder on the GPU machine: docs/pruning.md).
        var llama3 = ModelConfig.Parse(ModelPresets.Config("llama-3-8b"), "llama-3-8b");
        Assert.Equal([8, 8, 8, 4, 4, 4, 2, 2, 2, 1], new[] { 0.0, 0.1, 0.25, 0.375, 0.45, 0.6, 0.7, 0.75, 0.8, 0.9 }
            .Select(r => PruningShape.Counts(llama3, PruningMethod.L1, r).KeptKvHeads));
        using var source = Checkpoint.Open(Pydoc);
        for (double r = 0; r < 0.95; r += 0.05)
        {
            var pruned = PruningShape.Config(source.Config, PruningMethod.WandaSp, r);
            Assert.Equal(0, pruned.HiddenSize % pruned.NumHeads);
        }
        var qwen2 = ModelConfig.Parse(ModelPresets.Config("qwen2-7b"), "qwen2-7b"); // 3584 wide, 4 groups of 7: Qwen2Config has no such check
        Assert.Equal(3, PruningShape.Counts(qwen2, PruningMethod.L1, 0.25).KeptKvHeads);
    }

    [Fact]
    public void AParameterBudgetGivesTheSmallestRatioUnderIt()
    {
        using var source = Checkpoint.Open(Pydoc);
        var c = source.Config;
        // llama-pydoc: 8 layers, hidden 256, 4 KV groups of 2 query heads × 32, MLP 704, vocab 8192, untied.
        // Ratio 0.2 asks to keep 3 groups (6 heads), which transformers 5 refuses (256 is not a multiple of 6),
        // so all 4 stay, and 141 channels per layer go: per layer q 256·256 + k,v 2·128·256 + o 256·256
        // + gate,up,down 3·256·563 + 2 norms·256 = 629,504; ×8 + embedding and head 2·8192·256 + final norm 256 = 9,230,592.
        long budget = 9_230_592;
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
