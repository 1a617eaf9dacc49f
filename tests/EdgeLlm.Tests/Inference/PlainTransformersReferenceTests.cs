using System.Text.Json.Nodes;
using EdgeLlm.Inference;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Inference;

/// <summary>
/// The default engine against references this project produced with transformers 5.17 on the device
/// machine (tools/reference/make_references.py): the plain float32 path on the 16-bit checkpoints,
/// Llama-3.1 rope scaling, and configs in the older top-level rope layout.
/// </summary>
public class PlainTransformersReferenceTests : TempDirectoryTest
{

    [Theory]
    [InlineData("llama-float16")]
    [InlineData("llama-bfloat16")]
    [InlineData("phi-float16")]
    [InlineData("phi-bfloat16")]
    [InlineData("qwen2-float16")]
    [InlineData("qwen2-bfloat16")]
    public void DefaultEngineMatchesPlainTransformersOn16BitCheckpoints(string fixture)
    {
        using var model = CausalLM.Load(SharedData.Path("fixtures", "hf-tiny", fixture));
        using var expected = new Expected(SharedData.Reference($"plain-{fixture}.safetensors"));
        var logits = model.ForwardAll(model.NewCache(), expected.Ids("ids_len33"));
        float diff = Expected.MaxAbsDiff(expected.Floats("logits_len33"), logits);
        Assert.True(diff < 1e-3f, $"{fixture}: max |Δlogit| = {diff}");
    }

    [Fact]
    public void Llama31RopeScalingFromATopLevelRopeConfigMatchesTransformers()
    {
        var folder = SharedData.Reference("llama31-scaled");
        using var model = CausalLM.Load(folder);
        Assert.Equal("llama3", model.Config.Rope.Type);
        using var expected = new Expected(Path.Combine(folder, "expected.safetensors"));
        var logits = model.ForwardAll(model.NewCache(), expected.Ids("ids_len130"));
        float diff = Expected.MaxAbsDiff(expected.Floats("logits_len130"), logits);
        Assert.True(diff < 1e-3f, $"max |Δlogit| = {diff}");
    }

    [Theory]
    [InlineData("llama-float32")]
    [InlineData("phi-float32")]
    [InlineData("qwen2-float32")]
    public void OlderConfigLayoutGivesTheSameLogits(string fixture)
    {
        var source = SharedData.Path("fixtures", "hf-tiny", fixture);
        var folder = Path.Combine(Temp, fixture);
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(source, "model.safetensors"), Path.Combine(folder, "model.safetensors"));
        var config = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(source, "config.json")))!;
        var rope = (JsonObject)config["rope_parameters"]!;
        config.Remove("rope_parameters");
        config["rope_theta"] = rope["rope_theta"]!.GetValue<double>();
        config["rope_scaling"] = null;
        if (rope["partial_rotary_factor"] is { } partial) config["partial_rotary_factor"] = partial.GetValue<double>();
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());

        using var model = CausalLM.Load(folder);
        using var expected = new Expected(Path.Combine(source, "expected.safetensors"));
        var logits = model.ForwardAll(model.NewCache(), expected.Ids("ids_len33"));
        Assert.True(Expected.MaxAbsDiff(expected.Floats("logits_len33"), logits) < 1e-3f);
    }
}
