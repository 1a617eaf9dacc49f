using System.Text.Json.Nodes;
using EdgeLlm.Calibration;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Pruning;
using EdgeLlm.Tests.Checkpoints;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Pruning;

/// <summary>
/// Qwen-7B's own layout, checked against Qwen2: the qwen2-float32 fixture and its QWen-layout copy (built as
/// QWenLayoutTests does) are the same model, so each method, calibrated on the same windows through each engine's
/// own observer hooks, must keep the same MLP channels / layers and give the same logits after pruning. At ratio
/// 0.2 Qwen2 keeps both of its KV groups (round(0.8 × 2) = 2), and QWen never prunes heads (modeling_qwen.py
/// cannot load fewer), so the two plans are comparable structure for structure.
/// </summary>
public class QWenPruningTests
{
    private static readonly string Qwen2 = TestFiles.HfTiny("qwen2-float32");
    private static readonly int[] Ids = [1, 2, 3, 400, 500, 600, 7, 999, 42, 17];

    private static IReadOnlyList<int[]> Windows()
    {
        var random = new Random(7);
        return Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, 48).Select(_ => random.Next(1000)).ToArray()).ToArray();
    }

    private static CalibrationStatistics Calibrate(string folder)
    {
        using var model = CausalLM.Load(folder);
        return Calibrator.Run(model, Windows());
    }

    private static (PruningPlan Plan, float[] Logits, JsonNode Report) Prune(string folder, PruningMethod method, double ratio, string output,
        PruningStructure structure = PruningStructure.Uniform)
    {
        using var source = Checkpoint.Open(folder);
        var stats = method.NeedsCalibration() ? Calibrate(folder) : null;
        var plan = StructuredPruner.Plan(source, method, ratio, stats, biasCompensation: false, structure: structure);
        PrunedCheckpointWriter.Save(source, plan, output);
        using var pruned = CausalLM.Load(output);
        return (plan, pruned.ForwardAll(pruned.NewCache(), Ids), JsonNode.Parse(File.ReadAllText(Path.Combine(output, "pruning.json")))!);
    }

    [Theory]
    [InlineData(PruningMethod.L1)]
    [InlineData(PruningMethod.WandaSp)]
    [InlineData(PruningMethod.Flap)]
    [InlineData(PruningMethod.ShortGpt)]
    public void PruningTheQWenLayoutEqualsPruningQwen2(PruningMethod method)
    {
        using var dir = new TempDir();
        QWenLayoutTests.BuildQWen(dir.Path("qwen"));
        var (q2Plan, q2Logits, q2Report) = Prune(Qwen2, method, 0.2, dir.Path("qwen2-pruned"));
        var (qPlan, qLogits, qReport) = Prune(dir.Path("qwen"), method, 0.2, dir.Path("qwen-pruned"));

        Assert.All(q2Plan.KeptKvHeads, k => Assert.Equal([0, 1], k)); // precondition: Qwen2 keeps its heads at 0.2
        Assert.All(qPlan.KeptKvHeads, k => Assert.Equal([0, 1, 2, 3], k));
        Assert.Equal(q2Plan.RemovedLayers, qPlan.RemovedLayers);
        Assert.Equal(q2Plan.KeptChannels, qPlan.KeptChannels);
        Assert.Equal(q2Report["kept_channels"]!.ToJsonString(), qReport["kept_channels"]!.ToJsonString());
        Assert.Equal(q2Report["removed_layers"]!.ToJsonString(), qReport["removed_layers"]!.ToJsonString());
        if (method != PruningMethod.ShortGpt) Assert.All(qPlan.KeptChannels, k => Assert.Equal(275, k.Length)); // round(0.8 × 344)
        else Assert.Single(qPlan.RemovedLayers); // round(0.2 × 3)
        float diff = Expected.MaxAbsDiff(q2Logits, qLogits);
        Assert.True(diff <= 1e-4f, $"{method}: max |Δlogit| between pruned Qwen2 and pruned QWen = {diff}");
    }

    [Fact]
    public void PrunedQWenConfigIsWhatModelingQwenReads()
    {
        using var dir = new TempDir();
        QWenLayoutTests.BuildQWen(dir.Path("qwen"));
        Prune(dir.Path("qwen"), PruningMethod.L1, 0.5, dir.Path("pruned"));
        var config = TestFiles.ReadConfig(dir.Path("pruned"));
        Assert.Equal(2 * 172, (int)config["intermediate_size"]!); // both MLP branches: 2 × round(0.5 × 344)
        Assert.Equal(4, (int)config["num_attention_heads"]!);
        Assert.Equal(32, (int)config["kv_channels"]!);
        Assert.Equal(128, (int)config["hidden_size"]!);
        Assert.Null(config["num_key_value_heads"]);
        Assert.Null(config["head_dim"]);
        using var pruned = Checkpoint.Open(dir.Path("pruned"));
        Assert.Equal([172L, 128], pruned["transformer.h.2.mlp.w1.weight"].Shape);
        Assert.Equal([128L, 172], pruned["transformer.h.2.mlp.c_proj.weight"].Shape);
        Assert.Equal([3L * 128, 128], pruned["transformer.h.2.attn.c_attn.weight"].Shape);
        Assert.Equal(172, pruned.Config.IntermediateSize);
    }

    [Fact]
    public void ShortGptRenumbersTransformerBlocks()
    {
        using var dir = new TempDir();
        QWenLayoutTests.BuildQWen(dir.Path("qwen"));
        var (plan, _, _) = Prune(dir.Path("qwen"), PruningMethod.ShortGpt, 0.34, dir.Path("pruned"));
        using var pruned = Checkpoint.Open(dir.Path("pruned"));
        Assert.Equal(2, pruned.Config.NumLayers);
        Assert.True(pruned.Contains("transformer.h.1.mlp.w1.weight"));
        Assert.False(pruned.Contains("transformer.h.2.mlp.w1.weight"));
        Assert.Single(plan.RemovedLayers);
    }

    [Fact]
    public void FlapBiasCompensationIsRefusedWithTheFlagToUse()
    {
        using var dir = new TempDir();
        QWenLayoutTests.BuildQWen(dir.Path("qwen"));
        using var source = Checkpoint.Open(dir.Path("qwen"));
        var e = Assert.Throws<NotSupportedException>(() => StructuredPruner.Plan(source, PruningMethod.Flap, 0.2, Calibrate(dir.Path("qwen"))));
        Assert.Contains("--no-bias-compensation", e.Message);
    }

    [Fact]
    public void GlobalFlapOnQWenGivesPerLayerMlpWidthsThatReload()
    {
        using var dir = new TempDir();
        QWenLayoutTests.BuildQWen(dir.Path("qwen"));
        var (plan, logits, report) = Prune(dir.Path("qwen"), PruningMethod.Flap, 0.3, dir.Path("pruned"), PruningStructure.Global);
        var shapes = (JsonArray)TestFiles.ReadConfig(dir.Path("pruned"))[ModelConfig.LayerShapesField]!;
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(2 * plan.KeptChannels[i].Length, (int)shapes[i]!["intermediate_size"]!);
            Assert.Equal(4, (int)shapes[i]!["num_attention_heads"]!);
        }
        using var pruned = CausalLM.Load(dir.Path("pruned"));
        Assert.Equal(plan.KeptChannels.Select(k => k.Length), Enumerable.Range(0, 3).Select(i => pruned.Config.Layer(i).IntermediateSize));
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
    }
}
