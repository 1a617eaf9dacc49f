using EdgeLlm.Calibration;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Pruning;
using EdgeLlm.Tests.Calibration;
using EdgeLlm.Tests.Checkpoints;
using EdgeLlm.Tokenization;
using Xunit.Abstractions;

namespace EdgeLlm.Tests.Pruning;

/// <summary>The methods on the trained 8-layer Llama, calibrated on 8 windows of 128 tokens, scored on 8 validation windows.</summary>
public class PruningMethodTests(ITestOutputHelper output)
{
    private static readonly Lazy<(CalibrationStatistics Stats, IReadOnlyList<int[]> Validation, double BasePerplexity)> Setup = new(() =>
    {
        var tokenizer = Tokenizers.Load(TestFiles.Trained);
        var samples = CalibrationSampler.Sample(TextDocuments.ReadC4(CalibrationTests.TrainShard), tokenizer, 8, 128, seed: 0);
        using var model = CausalLM.Load(TestFiles.Trained);
        var stats = Calibrator.Run(model, samples);
        var validation = Perplexity.Windows(TextDocuments.ReadC4(CalibrationTests.ValidationShard), tokenizer, 256, 8);
        return (stats, validation, Perplexity.Evaluate(model, validation).Perplexity);
    });

    private (long Parameters, double Perplexity) PruneAndScore(PruningMethod method, double ratio, TempDir dir)
    {
        var (stats, validation, _) = Setup.Value;
        using var source = Checkpoint.Open(TestFiles.Trained);
        var plan = StructuredPruner.Plan(source, method, ratio, stats);
        var folder = dir.Path($"{method}-{ratio}");
        var result = PrunedCheckpointWriter.Save(source, plan, folder);
        using var model = CausalLM.Load(folder);
        double ppl = Perplexity.Evaluate(model, validation).Perplexity;
        output.WriteLine($"{method,-9} {ratio:P0}: {result.ParametersAfter:N0} parameters, perplexity {ppl:F2}");
        return (result.ParametersAfter, ppl);
    }

    [Fact]
    public void PerplexityIsFiniteAndRisesWithRatioAndActivationAwareMethodsBeatL1()
    {
        using var dir = new TempDir();
        double basePpl = Setup.Value.BasePerplexity;
        var results = new Dictionary<(PruningMethod, double), (long Parameters, double Perplexity)>();
        foreach (var method in Enum.GetValues<PruningMethod>())
            foreach (var ratio in new[] { 0.2, 0.4 })
                results[(method, ratio)] = PruneAndScore(method, ratio, dir);
        foreach (var method in Enum.GetValues<PruningMethod>())
        {
            var (p20, p40) = (results[(method, 0.2)], results[(method, 0.4)]);
            Assert.True(double.IsFinite(p40.Perplexity));
            Assert.True(basePpl < p20.Perplexity && p20.Perplexity < p40.Perplexity, $"{method}: {basePpl} → {p20.Perplexity} → {p40.Perplexity}");
            Assert.True(p40.Parameters < p20.Parameters);
        }
        // Equal structure counts: L1 and Wanda-sp keep the same number of parameters; FLAP adds only biases (8 layers × 2 × 256 + zero q/k/v/gate/up biases).
        foreach (var ratio in new[] { 0.2, 0.4 })
        {
            Assert.Equal(results[(PruningMethod.L1, ratio)].Parameters, results[(PruningMethod.WandaSp, ratio)].Parameters);
            Assert.True(results[(PruningMethod.Flap, ratio)].Parameters - results[(PruningMethod.L1, ratio)].Parameters < 20_000);
            // Measured (docs/pruning.md): activation-aware scores lose far less than magnitude alone.
            Assert.True(results[(PruningMethod.WandaSp, ratio)].Perplexity < results[(PruningMethod.L1, ratio)].Perplexity);
            Assert.True(results[(PruningMethod.Flap, ratio)].Perplexity < results[(PruningMethod.L1, ratio)].Perplexity);
        }
    }

    [Fact]
    public void FlapWritesItsBiasCompensationIntoALoadableLlamaConfig()
    {
        using var dir = new TempDir();
        var (stats, _, _) = Setup.Value;
        using var source = Checkpoint.Open(TestFiles.Trained);
        var plan = StructuredPruner.Plan(source, PruningMethod.Flap, 0.4, stats);
        // Compensation by hand for layer 4: Σ over removed channels j of down_proj[:, j] × mean(x_j).
        var down = source["model.layers.4.mlp.down_proj.weight"].ToFloatArray();
        var removed = Enumerable.Range(0, 704).Except(plan.KeptChannels[4]).ToList();
        Assert.Equal(282, removed.Count); // 704 − round(0.6 × 704)
        for (int i = 0; i < 256; i += 51)
        {
            double expected = removed.Sum(j => down[i * 704 + j] * stats.Mlp[4].Mean(j));
            Assert.Equal(expected, plan.MlpBiasCompensation![4]![i], 4);
        }
        PrunedCheckpointWriter.Save(source, plan, dir.Path("flap"));
        var config = TestFiles.ReadConfig(dir.Path("flap"));
        Assert.True((bool)config["attention_bias"]! && (bool)config["mlp_bias"]!);
        using var pruned = Checkpoint.Open(dir.Path("flap"));
        Assert.All(pruned["model.layers.0.mlp.gate_proj.bias"].ToFloatArray(), v => Assert.Equal(0f, v));
        Assert.Equal(plan.MlpBiasCompensation![4]![0], pruned["model.layers.4.mlp.down_proj.bias"].ToFloatArray()[0], 2);
        var report = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(dir.Path("flap", "pruning.json")))!;
        Assert.Contains("mlp_bias", report["notes"]!.ToJsonString());
    }

    [Fact]
    public void ShortGptRemovesTheLayersWithLowestBlockInfluence()
    {
        var (stats, _, _) = Setup.Value;
        using var source = Checkpoint.Open(TestFiles.Trained);
        var plan = StructuredPruner.Plan(source, PruningMethod.ShortGpt, 0.4, stats);
        var order = Enumerable.Range(0, 8).OrderBy(stats.BlockInfluence).Take(3).Order().ToArray();
        Assert.Equal(order, plan.RemovedLayers);
        Assert.DoesNotContain(0, plan.RemovedLayers);
        var e = Assert.Throws<ArgumentException>(() => StructuredPruner.Plan(source, PruningMethod.WandaSp, 0.2, null));
        Assert.Contains("calibration", e.Message);
    }
}
