using System.Text.Json.Nodes;
using EdgeLlm.Architectures;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Profiling;
using EdgeLlm.Pruning;
using EdgeLlm.Tests.Checkpoints;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Architectures;

/// <summary>
/// <c>MistralForCausalLM</c>, the architecture added as one file (src/EdgeLlm/Architectures/Mistral.cs) plus its
/// registration line, against what transformers computed on a tiny random Mistral with a 16-token sliding window
/// (tools/reference/make_mistral_reference.py, References/mistral-*).
/// </summary>
public class MistralTests
{
    public static TheoryData<string> Folders() => new() { "mistral-float32", "mistral-bfloat16" };

    private static string Folder(string name) => SharedData.Reference(name);

    private static Expected ExpectedOf(string folder) => new(Path.Combine(Folder(folder), "expected.safetensors"));

    [Theory]
    [MemberData(nameof(Folders))]
    public void ConfigIsReadAsMistralWithItsWindow(string folder)
    {
        var c = ModelConfig.Load(Path.Combine(Folder(folder), "config.json"));
        Assert.Same(Mistral.Instance, c.Architecture);
        Assert.Equal(16, c.SlidingWindow);
        Assert.Equal((4, 2, 8), (c.NumHeads, c.NumKvHeads, c.HeadDim));
        Assert.False(c.AttentionBias);
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void FullForwardLogitsMatchTransformersPastTheWindow(string folder)
    {
        using var model = CausalLM.Load(Folder(folder));
        using var expected = ExpectedOf(folder);
        var logits = model.ForwardAll(model.NewCache(), expected.Ids("ids_len130"));
        float diff = Expected.MaxAbsDiff(expected.Floats("logits_len130"), logits);
        Assert.True(diff < 1e-3f, $"{folder}: max |Δlogit| = {diff}");
    }

    [Fact]
    public void WithoutTheWindowTheLogitsDiffer()
    {
        // The reference really exercises the window: the same weights attending to the whole prefix are far off.
        using var dir = new TempDir();
        foreach (var f in Directory.GetFiles(Folder("mistral-float32"))) File.Copy(f, dir.Path(Path.GetFileName(f)));
        var config = JsonNode.Parse(File.ReadAllText(dir.Path("config.json")))!.AsObject();
        config["sliding_window"] = null;
        File.WriteAllText(dir.Path("config.json"), config.ToJsonString());
        using var model = CausalLM.Load(dir.Directory);
        Assert.Equal(0, model.Config.SlidingWindow);
        using var expected = ExpectedOf("mistral-float32");
        var ids = expected.Ids("ids_len130");
        var logits = model.ForwardAll(model.NewCache(), ids);
        var want = expected.Floats("logits_len130");
        int vocab = model.VocabSize;
        // Within the window both agree; beyond it they must not.
        Assert.True(Expected.MaxAbsDiff(want.AsSpan(0, 16 * vocab), logits.AsSpan(0, 16 * vocab)) < 1e-3f);
        Assert.True(Expected.MaxAbsDiff(want.AsSpan(16 * vocab), logits.AsSpan(16 * vocab)) > 1e-2f);
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void IncrementalDecodingEqualsFullForward(string folder)
    {
        using var model = CausalLM.Load(Folder(folder));
        using var expected = ExpectedOf(folder);
        var ids = expected.Ids("ids_len33");
        var full = model.ForwardAll(model.NewCache(), ids);
        var cache = model.NewCache(initialCapacity: 4);
        model.Forward(cache, ids.AsSpan(0, 10));
        for (int t = 10; t < ids.Length; t++)
        {
            var step = model.Forward(cache, ids.AsSpan(t, 1));
            float diff = Expected.MaxAbsDiff(full.AsSpan(t * model.VocabSize, model.VocabSize), step);
            Assert.True(diff < 1e-4f, $"{folder} position {t}: incremental differs from full forward by {diff}");
        }
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void LogLikelihoodsMatchTransformers(string folder)
    {
        using var model = CausalLM.Load(Folder(folder));
        using var expected = ExpectedOf(folder);
        var logprobs = new Scorer(model).LogProbs(expected.Ids("ids_len33"));
        float diff = Expected.MaxAbsDiff(expected.Floats("loglik_len33"), logprobs);
        Assert.True(diff < 1e-3f, $"{folder}: max |Δloglik| = {diff}");
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void GreedyTokensMatchTransformers(string folder)
    {
        using var model = CausalLM.Load(Folder(folder));
        using var expected = ExpectedOf(folder);
        var want = expected.Ids("greedy_out");
        var refLogits = expected.Floats("greedy_logits");
        var result = new Generator(model).Greedy(expected.Ids("greedy_prompt"),
            new GenerationOptions { MaxNewTokens = want.Length, StopAtEos = false });
        for (int t = 0; t < want.Length; t++)
        {
            if (result.Tokens[t] == want[t]) continue;
            var top = refLogits.AsSpan(t * model.VocabSize, model.VocabSize).ToArray().OrderDescending().Take(2).ToArray();
            Assert.True(top[0] - top[1] < 1e-3f, $"{folder} step {t}: generated {result.Tokens[t]}, transformers {want[t]}");
            break;
        }
    }

    [Fact]
    public void PrunesToALoadableMistralThatKeepsItsWindow()
    {
        using var dir = new TempDir();
        using var source = Checkpoint.Open(Folder("mistral-float32"));
        var plan = StructuredPruner.Plan(source, PruningMethod.L1, 0.5);
        var result = PrunedCheckpointWriter.Save(source, plan, dir.Directory);
        Assert.Equal((1, 32), (result.KvHeads, result.IntermediateSize));
        Assert.Equal(PruningShape.ParameterCount(source.Config, PruningMethod.L1, 0.5), result.ParametersAfter);
        using var pruned = CausalLM.Load(dir.Directory);
        Assert.Same(Mistral.Instance, pruned.Config.Architecture);
        Assert.Equal((2, 1, 8, 16), (pruned.Config.NumHeads, pruned.Config.NumKvHeads, pruned.Config.HeadDim, pruned.Config.SlidingWindow));
        Assert.Equal(result.ParametersAfter, TensorLayout.ParameterCount(pruned.Config));
        var logits = pruned.ForwardAll(pruned.NewCache(), Enumerable.Range(0, 40).ToArray());
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void FlapBiasCompensationIsRefusedBecauseMistralHasNoBiasSwitch()
    {
        using var source = Checkpoint.Open(Folder("mistral-float32"));
        var e = Assert.Throws<NotSupportedException>(() => StructuredPruner.Plan(source, PruningMethod.Flap, 0.5, biasCompensation: true));
        Assert.Contains("MistralForCausalLM", e.Message);
    }

    [Fact]
    public void MemoryPredictionCountsItsTensorsAndCache()
    {
        var c = ModelConfig.Load(Path.Combine(Folder("mistral-float32"), "config.json"));
        var p = MemoryModel.Predict(c, new MemoryScenario { Context = 256, WeightDType = DType.F32, Threads = 2 });
        // By hand: embed + head 2·1000·32, per layer norms 2·32, q/o 2·32·32, k/v 2·16·32, MLP 3·64·32; final norm 32.
        long perLayer = 2 * 32 + 2 * 32 * 32 + 2 * 16 * 32 + 3 * 64 * 32;
        Assert.Equal(2 * 1000 * 32 + 3 * perLayer + 32, p.Parameters);
        Assert.Equal(2L * 3 * 16 * 256 * 4, p.KvCacheBytes); // K and V, 3 layers, 2 KV heads × 8, float32 cache of the edgellm-cpu runtime
    }

    [Fact]
    public void InspectNamesTheArchitectureAndWindow()
    {
        var r = CliRunner.Run("inspect", Folder("mistral-bfloat16"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("MistralForCausalLM", r.Stdout);
        Assert.Contains("sliding window 16", r.Stdout);
    }
}
