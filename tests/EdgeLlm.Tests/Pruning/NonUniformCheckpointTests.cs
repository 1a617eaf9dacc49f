using System.Text.Json.Nodes;
using EdgeLlm.Calibration;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Profiling;
using EdgeLlm.Pruning;
using EdgeLlm.Tests.Calibration;
using EdgeLlm.Tests.Checkpoints;
using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Pruning;

/// <summary>
/// FLAP's global allocation on the trained Llama: a checkpoint whose layers differ in width. Its logits must equal
/// those of the full-size model with the removed structures masked (their o_proj / down_proj columns zeroed) and
/// FLAP's compensation put in full-size biases — a model that needs no per-layer-shape code at all.
/// </summary>
public class NonUniformCheckpointTests
{
    private static readonly Lazy<CalibrationStatistics> Stats = new(() =>
    {
        var samples = CalibrationSampler.Sample(TextDocuments.ReadC4(CalibrationTests.TrainShard), Tokenizers.Load(TestFiles.Trained), 4, 128, seed: 0);
        using var model = CausalLM.Load(TestFiles.Trained);
        return Calibrator.Run(model, samples);
    });

    private static readonly int[] Ids = [0, 417, 93, 2051, 7, 88, 1200, 5, 640, 3333, 12, 901];

    [Fact]
    public void GlobalFlapCheckpointEqualsTheMaskedFullModel()
    {
        using var dir = new TempDir();
        using var source = Checkpoint.Open(TestFiles.Trained);
        var c = source.Config;
        var plan = StructuredPruner.Plan(source, PruningMethod.Flap, 0.3, Stats.Value, structure: PruningStructure.Global);
        var result = PrunedCheckpointWriter.Save(source, plan, dir.Path("global"));
        Assert.False(result.UniformShapes);
        Assert.True(result.LayerShapes!.Distinct().Count() > 1, "the allocation should give the layers different widths");

        var config = TestFiles.ReadConfig(dir.Path("global"));
        var shapes = (JsonArray)config[ModelConfig.LayerShapesField]!;
        Assert.Equal(8, shapes.Count);
        Assert.Equal(4, (int)config["num_key_value_heads"]!); // top level stays unpruned: a stock loader fails loudly
        var report = JsonNode.Parse(File.ReadAllText(dir.Path("global", "pruning.json")))!;
        Assert.False((bool)report["uniform_shapes"]!);
        Assert.Equal("global", (string)report["structure"]!);
        Assert.Contains("will refuse", report["notes"]!.ToJsonString());

        using var pruned = CausalLM.Load(dir.Path("global"));
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(plan.KeptKvHeads[i].Length, pruned.Config.Layer(i).NumKvHeads);
            Assert.Equal(plan.KeptKvHeads[i].Length * 2, pruned.Config.Layer(i).NumHeads);
            Assert.Equal(plan.KeptChannels[i].Length, pruned.Config.Layer(i).IntermediateSize);
        }
        Assert.Equal(pruned.Checkpoint.ParameterCount, TensorLayout.ParameterCount(pruned.Config));
        Assert.Equal(result.ParametersAfter, TensorLayout.ParameterCount(pruned.Config));
        long kvFloats = plan.KeptKvHeads.Sum(k => k.Length * 32L);
        Assert.Equal(2 * kvFloats * 100 * 2, MemoryModel.KvCacheBytes(pruned.Config, 100, 1, DType.F16));
        var cache = pruned.NewCache();
        var actual = pruned.ForwardAll(cache, Ids);
        Assert.Equal(2 * kvFloats * cache.Capacity * sizeof(float), cache.Bytes);

        BuildMasked(source, plan, dir.Path("masked"));
        using var masked = CausalLM.Load(dir.Path("masked"));
        Assert.True(masked.Config.HasUniformLayers);
        var expected = masked.ForwardAll(masked.NewCache(), Ids);
        Assert.True(Expected.MaxAbsDiff(expected, actual) < 2e-3, $"max |Δlogit| = {Expected.MaxAbsDiff(expected, actual)}");

        // Incremental decoding through the per-layer-width cache gives the same last logits.
        var step = pruned.NewCache(2);
        pruned.Forward(step, Ids.AsSpan(0, 6));
        var last = pruned.Forward(step, Ids.AsSpan(6));
        Assert.True(Expected.MaxAbsDiff(actual.AsSpan((Ids.Length - 1) * c.VocabSize, c.VocabSize), last) < 1e-3);
    }

    /// <summary>The source at full size with removed columns zeroed and compensation biases (zero q/k/v/gate/up biases) added.</summary>
    private static void BuildMasked(Checkpoint source, PruningPlan plan, string folder)
    {
        var c = source.Config;
        const int groupColumns = 2 * 32;
        var tensors = new List<TensorData>();
        foreach (var v in source.Tensors.Values)
        {
            string[] parts = v.Name.Split('.');
            bool o = v.Name.EndsWith("self_attn.o_proj.weight"), down = v.Name.EndsWith("mlp.down_proj.weight");
            if (!o && !down) { tensors.Add(TensorData.FromView(v)); continue; }
            int layer = int.Parse(parts[2]);
            var values = v.ToFloatArray();
            for (int col = 0; col < v.RowLength; col++)
            {
                bool removed = o ? !plan.KeptKvHeads[layer].Contains(col / groupColumns) : !plan.KeptChannels[layer].Contains(col);
                if (removed) for (int r = 0; r < v.Rows; r++) values[r * v.RowLength + col] = 0;
            }
            tensors.Add(TensorData.FromFloats(v.Name, v.Shape, values, v.DType));
        }
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            TensorData Zeros(string name, int n) => TensorData.FromFloats(p + name, [n], new float[n], source.DType);
            tensors.Add(Zeros("self_attn.q_proj.bias", 256));
            tensors.Add(Zeros("self_attn.k_proj.bias", 128));
            tensors.Add(Zeros("self_attn.v_proj.bias", 128));
            tensors.Add(TensorData.FromFloats(p + "self_attn.o_proj.bias", [256], plan.AttentionBiasCompensation![i] ?? new float[256], source.DType));
            tensors.Add(Zeros("mlp.gate_proj.bias", 704));
            tensors.Add(Zeros("mlp.up_proj.bias", 704));
            tensors.Add(TensorData.FromFloats(p + "mlp.down_proj.bias", [256], plan.MlpBiasCompensation![i] ?? new float[256], source.DType));
        }
        var config = (JsonObject)c.Raw.DeepClone();
        config["attention_bias"] = true;
        config["mlp_bias"] = true;
        CheckpointWriter.Save(folder, config, tensors);
    }

    [Fact]
    public void DefaultFlapOutputStaysUniform()
    {
        using var dir = new TempDir();
        using var source = Checkpoint.Open(TestFiles.Trained);
        var plan = StructuredPruner.Plan(source, PruningMethod.Flap, 0.45, Stats.Value);
        Assert.Equal(PruningStructure.Uniform, plan.Structure);
        Assert.Single(plan.KeptChannels.Select(k => k.Length).Distinct());
        var result = PrunedCheckpointWriter.Save(source, plan, dir.Path("uniform"));
        Assert.True(result.UniformShapes);
        var config = TestFiles.ReadConfig(dir.Path("uniform"));
        Assert.Null(config[ModelConfig.LayerShapesField]);
        Assert.Equal(2, (int)config["num_key_value_heads"]!); // round(0.55 × 4)
        Assert.True((bool)JsonNode.Parse(File.ReadAllText(dir.Path("uniform", "pruning.json")))!["uniform_shapes"]!);
    }

    [Fact]
    public void APlanWithDifferentWidthsIsWrittenOnlyWhenItAskedForThem()
    {
        using var dir = new TempDir();
        using var source = Checkpoint.Open(TestFiles.Trained);
        var all = Enumerable.Range(0, 704).ToArray();
        var plan = new PruningPlan
        {
            Method = PruningMethod.L1, Ratio = 0.1,
            KeptKvHeads = Enumerable.Repeat(new[] { 0, 1, 2, 3 }, 8).ToArray(),
            KeptChannels = Enumerable.Range(0, 8).Select(i => i == 3 ? all[..500] : all).ToArray(),
        };
        var e = Assert.Throws<InvalidOperationException>(() => PrunedCheckpointWriter.Save(source, plan, dir.Path("x")));
        Assert.Contains("uniform", e.Message);
        Assert.Throws<ArgumentException>(() => StructuredPruner.Plan(source, PruningMethod.WandaSp, 0.2, Stats.Value, structure: PruningStructure.Global));
    }

    [Fact]
    public void LayerShapesThatDisagreeWithTheTensorsOrTheLayerCountAreClearErrors()
    {
        using var dir = new TempDir();
        using (var source = Checkpoint.Open(TestFiles.Trained))
            PrunedCheckpointWriter.Save(source, StructuredPruner.Plan(source, PruningMethod.Flap, 0.3, Stats.Value, structure: PruningStructure.Global), dir.Path("g"));
        var config = TestFiles.ReadConfig(dir.Path("g"));
        var shapes = (JsonArray)config[ModelConfig.LayerShapesField]!;
        shapes[2]!["intermediate_size"] = (int)shapes[2]!["intermediate_size"]! + 1;
        File.WriteAllText(dir.Path("g", "config.json"), config.ToJsonString());
        var e = Assert.ThrowsAny<Exception>(() => CausalLM.Load(dir.Path("g")));
        Assert.Contains("model.layers.2.mlp", e.Message);

        shapes.RemoveAt(7);
        var bad = Assert.Throws<CheckpointFormatException>(() => ModelConfig.Parse(config));
        Assert.Contains("7 entries for 8 layers", bad.Message);
    }
}
