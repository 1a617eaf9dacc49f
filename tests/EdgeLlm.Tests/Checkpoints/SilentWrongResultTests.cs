using System.Text.Json.Nodes;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Tests.Support;
using static EdgeLlm.Tests.Checkpoints.TestFiles;

namespace EdgeLlm.Tests.Checkpoints;

/// <summary>
/// Inputs that used to load and then give silently wrong numbers (issue 15): each is now refused with a
/// <see cref="CheckpointFormatException"/> naming the file and the field, or, for non-finite weights that
/// only a forward pass meets, a <see cref="NonFiniteOutputException"/> naming the tensor.
/// </summary>
public class SilentWrongResultTests
{
    private static string ConfigWith(TempDir dir, string fixture, string patch)
    {
        var config = ReadConfig(HfTiny(fixture));
        foreach (var (k, v) in (JsonObject)JsonNode.Parse(patch)!)
        {
            if (v is null) config.Remove(k);
            else config[k] = v.DeepClone();
        }
        WriteConfig(dir.Directory, config);
        return dir.Path("config.json");
    }

    [Theory]
    // The engine's Llama MLP is SwiGLU with SiLU: these gave SiLU's output.
    [InlineData("llama-float32", """{"hidden_act":"gelu"}""", "hidden_act 'gelu' is not supported for LlamaForCausalLM")]
    [InlineData("llama-float32", """{"hidden_act":"relu6"}""", "hidden_act 'relu6'")]
    [InlineData("qwen2-float32", """{"hidden_act":"tanh"}""", "hidden_act 'tanh' is not supported for Qwen2ForCausalLM")]
    [InlineData("phi-float32", """{"hidden_act":"relu"}""", "hidden_act 'relu' is not supported for PhiForCausalLM")]
    // NaN log-probs with exit 0 before.
    [InlineData("llama-float32", """{"rope_parameters":{"rope_theta":0.0,"rope_type":"default"}}""", "field 'rope_theta' must be a positive number, found 0")]
    [InlineData("llama-float32", """{"rope_parameters":null,"rope_theta":-10000.0}""", "field 'rope_theta' must be a positive number, found -10000")]
    [InlineData("llama-float32", """{"rope_parameters":{"rope_theta":10000.0,"rope_type":"linear","factor":0.0}}""", "rope scaling field 'factor' must be a positive number, found 0")]
    [InlineData("llama-float32", """{"rope_parameters":{"rope_theta":10000.0,"rope_type":"llama3","factor":-8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":64}}""", "'factor' must be a positive number, found -8")]
    [InlineData("llama-float32", """{"rope_parameters":{"rope_theta":10000.0,"rope_type":"llama3","factor":8.0,"low_freq_factor":4.0,"high_freq_factor":4.0,"original_max_position_embeddings":64}}""", "'high_freq_factor' (4) must exceed 'low_freq_factor' (4)")]
    [InlineData("llama-float32", """{"rms_norm_eps":-1e-5}""", "field 'rms_norm_eps' must be zero or positive")]
    [InlineData("phi-float32", """{"layer_norm_eps":-1e-5}""", "field 'layer_norm_eps' must be zero or positive")]
    // 6 query heads over 4 key/value heads generated text before.
    [InlineData("llama-float32", """{"num_attention_heads":6,"num_key_value_heads":4}""", "6 attention heads are not a multiple of num_key_value_heads = 4")]
    // A string was dropped, so generation never stopped.
    [InlineData("llama-float32", """{"eos_token_id":"</s>"}""", "field 'eos_token_id' should be int32, found")]
    // A string was ignored, giving the default rope.
    [InlineData("llama-float32", """{"rope_parameters":"llama3"}""", "field 'rope_parameters' should be an object, found \"llama3\"")]
    [InlineData("llama-float32", """{"rope_parameters":null,"rope_scaling":[1,2]}""", "field 'rope_scaling' should be an object")]
    // Phi partial_rotary_factor 2.0: IndexOutOfRange; −0.5: Overflow; 1e5: stack overflow (exit 134).
    [InlineData("phi-float32", """{"partial_rotary_factor":2.0}""", "field 'partial_rotary_factor' must lie in [0, 1], found 2")]
    [InlineData("phi-float32", """{"partial_rotary_factor":-0.5}""", "found -0.5")]
    [InlineData("phi-float32", """{"partial_rotary_factor":1e5}""", "found 100000")]
    public void ConfigIsRefused(string fixture, string patch, string fragment)
    {
        using var dir = new TempDir();
        var path = ConfigWith(dir, fixture, patch);
        AssertFormatError(() => ModelConfig.Load(path), path, fragment);
    }

    [Theory]
    [InlineData("llama-float32", """{"hidden_act":"swish"}""")]
    [InlineData("llama-float32", """{"rms_norm_eps":0.0}""")]
    [InlineData("phi-float32", """{"partial_rotary_factor":1.0}""")]
    [InlineData("llama-float32", """{"eos_token_id":null}""")]
    public void LegalEdgeValuesStillLoad(string fixture, string patch)
    {
        using var dir = new TempDir();
        ModelConfig.Load(ConfigWith(dir, fixture, patch));
    }

    /// <summary>The fixture stores 3 layers; a config saying 2 silently ran a 2-layer model.</summary>
    [Fact]
    public void FewerConfigLayersThanStoredIsRefused()
    {
        using var dir = new TempDir();
        foreach (var f in Directory.GetFiles(HfTiny("llama-float32"))) File.Copy(f, dir.Path(Path.GetFileName(f)));
        var config = ConfigWith(dir, "llama-float32", """{"num_hidden_layers":2}""");
        AssertFormatError(() => CausalLM.Load(dir.Directory), config, "num_hidden_layers is 2 but the checkpoint stores 3 decoder layers");
    }

    private static string WithTensor(TempDir dir, string name, Func<float[], float[]> edit)
    {
        using var source = Checkpoint.Open(HfTiny("llama-float32"));
        var tensors = source.Tensors.Values.Select(t => t.Name == name
            ? TensorData.FromFloats(t.Name, t.Shape, edit(t.ToFloatArray()), t.DType) : TensorData.FromView(t)).ToList();
        CheckpointWriter.Save(dir.Directory, source.Config.Raw, tensors);
        return dir.Path(Checkpoint.SingleFile);
    }

    private static float[] WithNaN(float[] v) { v[v.Length / 2] = float.NaN; return v; }

    [Fact]
    public void NaNInANormIsRefusedAtLoad()
    {
        using var dir = new TempDir();
        var file = WithTensor(dir, "model.layers.1.post_attention_layernorm.weight", WithNaN);
        AssertFormatError(() => CausalLM.Load(dir.Directory), file, "tensor 'model.layers.1.post_attention_layernorm.weight' holds NaN or infinite values");
    }

    [Theory]
    [InlineData("model.layers.0.mlp.down_proj.weight")]
    [InlineData("model.embed_tokens.weight")]
    [InlineData("lm_head.weight")]
    public void NaNInAMatrixFailsTheForwardNamingTheTensor(string name)
    {
        using var dir = new TempDir();
        var file = WithTensor(dir, name, v => { Array.Fill(v, float.NaN, 0, v.Length); return v; });
        using var lm = CausalLM.Load(dir.Directory); // matrices are not read at load (memory-mapped)
        var e = Assert.Throws<NonFiniteOutputException>(() => lm.Forward(lm.NewCache(), [1, 5, 7]));
        Assert.Contains(file, e.Message);
        Assert.Contains($"tensor '{name}' holds NaN or infinite values", e.Message);
        Assert.IsAssignableFrom<EdgeLlmException>(e);
    }

    [Fact]
    public void TheUneditedCopyStillRuns()
    {
        using var dir = new TempDir();
        WithTensor(dir, "lm_head.weight", v => v);
        using var lm = CausalLM.Load(dir.Directory);
        Assert.All(lm.Forward(lm.NewCache(), [1, 5, 7]), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void InspectFailsForAMissingOrMisshapenTensor()
    {
        using var dir = new TempDir();
        using (var source = Checkpoint.Open(HfTiny("llama-float32")))
            CheckpointWriter.Save(dir.Directory, source.Config.Raw,
                source.Tensors.Values.Where(t => t.Name != "model.layers.1.self_attn.k_proj.weight").Select(t => TensorData.FromView(t)).ToList());
        var missing = CliRunner.Run("inspect", dir.Directory);
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal($"edgellm: {dir.Directory}: tensor 'model.layers.1.self_attn.k_proj.weight' is missing from the checkpoint", missing.Stderr.Trim());

        using var other = new TempDir();
        var file = WithTensorShape(other, "model.norm.weight", [64]);
        var misshapen = CliRunner.Run("inspect", other.Directory);
        Assert.Equal(1, misshapen.ExitCode);
        Assert.Equal($"edgellm: {file}: tensor 'model.norm.weight' has shape [64], config.json implies [128]", misshapen.Stderr.Trim());
        Assert.Equal(0, CliRunner.Run("inspect", HfTiny("llama-float32")).ExitCode);
    }

    private static string WithTensorShape(TempDir dir, string name, long[] shape)
    {
        using var source = Checkpoint.Open(HfTiny("llama-float32"));
        var tensors = source.Tensors.Values.Select(t => t.Name == name
            ? TensorData.FromFloats(t.Name, shape, new float[shape.Aggregate(1L, (a, b) => a * b)], t.DType) : TensorData.FromView(t)).ToList();
        CheckpointWriter.Save(dir.Directory, source.Config.Raw, tensors);
        return dir.Path(Checkpoint.SingleFile);
    }
}
