using System.Text.Json.Nodes;
using EdgeLlm.Architectures;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Tests.Support;
using static EdgeLlm.Tests.Checkpoints.TestFiles;

namespace EdgeLlm.Tests.Checkpoints;

/// <summary>
/// There is no QWen (<c>QWenLMHeadModel</c>) fixture, so one is built from qwen2-float32: the same
/// weights in Qwen-7B's layout (fused c_attn, w1/w2/c_proj MLP, no GQA) must give qwen2's logits.
/// </summary>
public class QWenLayoutTests
{
    private static readonly string Source = HfTiny("qwen2-float32");

    /// <summary>Writes the qwen2-float32 weights as a QWen checkpoint into <paramref name="folder"/>.</summary>
    internal static void BuildQWen(string folder, int seqLength = 512, bool dynamicNtk = true, bool lognAttn = true)
    {
        using var q2 = Checkpoint.Open(Source);
        var c = q2.Config;
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal(4, c.NumHeads);
        Assert.Equal(2, c.NumKvHeads); // grouped-query: QWen has none, so k/v heads are repeated below
        int heads = c.NumHeads, kvHeads = c.NumKvHeads, hd = c.HeadDim, d = c.HiddenSize;

        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("QWenLMHeadModel"),
            ["model_type"] = "qwen",
            ["hidden_size"] = d,
            ["num_attention_heads"] = heads,
            ["kv_channels"] = hd,
            ["intermediate_size"] = 2 * c.IntermediateSize, // QWen's config counts both MLP branches
            ["num_hidden_layers"] = c.NumLayers,
            ["vocab_size"] = c.VocabSize,
            ["layer_norm_epsilon"] = c.NormEps,
            ["rotary_emb_base"] = c.Rope.Theta,
            ["rotary_pct"] = 1.0,
            ["seq_length"] = seqLength,
            ["max_position_embeddings"] = 512, // the engine's context; dynamic NTK is what makes it usable past seq_length
            ["no_bias"] = true,
            ["use_dynamic_ntk"] = dynamicNtk,
            ["use_logn_attn"] = lognAttn,
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = "float32",
        };

        float[] F(string name) => q2[name].ToFloatArray();
        // Head h of the expanded k/v uses KV head h / (heads / kvHeads); rowWidth = d for weights, 1 for biases.
        float[] Expand(float[] kv, int rowWidth)
        {
            var result = new float[heads * hd * rowWidth];
            for (int h = 0; h < heads; h++)
                Array.Copy(kv, h / (heads / kvHeads) * hd * rowWidth, result, h * hd * rowWidth, hd * rowWidth);
            return result;
        }
        TensorData T(string name, long[] shape, float[] values) => TensorData.FromFloats(name, shape, values, DType.F32);

        var embed = F("model.embed_tokens.weight");
        var tensors = new List<TensorData>
        {
            T("transformer.wte.weight", [c.VocabSize, d], embed),
            T("lm_head.weight", [c.VocabSize, d], embed),
            T("transformer.ln_f.weight", [d], F("model.norm.weight")),
        };
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.", t = $"transformer.h.{i}.";
            string[] qkv = ["q_proj", "k_proj", "v_proj"];
            var w = qkv.Select((n, j) => j == 0 ? F(p + $"self_attn.{n}.weight") : Expand(F(p + $"self_attn.{n}.weight"), d));
            var b = qkv.Select((n, j) => j == 0 ? F(p + $"self_attn.{n}.bias") : Expand(F(p + $"self_attn.{n}.bias"), 1));
            tensors.Add(T(t + "ln_1.weight", [d], F(p + "input_layernorm.weight")));
            tensors.Add(T(t + "attn.c_attn.weight", [3 * heads * hd, d], w.SelectMany(x => x).ToArray()));
            tensors.Add(T(t + "attn.c_attn.bias", [3 * heads * hd], b.SelectMany(x => x).ToArray()));
            tensors.Add(T(t + "attn.c_proj.weight", [d, heads * hd], F(p + "self_attn.o_proj.weight")));
            tensors.Add(T(t + "ln_2.weight", [d], F(p + "post_attention_layernorm.weight")));
            tensors.Add(T(t + "mlp.w1.weight", [c.IntermediateSize, d], F(p + "mlp.up_proj.weight")));   // c_proj(w1(x) · silu(w2(x)))
            tensors.Add(T(t + "mlp.w2.weight", [c.IntermediateSize, d], F(p + "mlp.gate_proj.weight")));
            tensors.Add(T(t + "mlp.c_proj.weight", [d, c.IntermediateSize], F(p + "mlp.down_proj.weight")));
        }
        CheckpointWriter.Save(folder, config, tensors);
    }

    private static float[] Logits(CausalLM model, int[] ids) => model.ForwardAll(model.NewCache(), ids);

    [Fact]
    public void ConfigIsReadAsQWen()
    {
        using var dir = new TempDir();
        BuildQWen(dir.Directory);
        var c = ModelConfig.Load(dir.Path("config.json"));
        Assert.Same(QWen.Instance, c.Architecture);
        Assert.Equal(344, c.IntermediateSize); // half the config's 688
        Assert.Equal((4, 4, 32), (c.NumHeads, c.NumKvHeads, c.HeadDim));
        Assert.Equal((1e6, 32), (c.Rope.Theta, c.Rope.RotaryDim));
        Assert.Equal((512, true, true), (c.SeqLength, c.UseDynamicNtk, c.UseLognAttn));
        Assert.False(c.MlpBias);
        Assert.False(c.TieWordEmbeddings);
    }

    [Fact]
    public void LogitsMatchQwen2Reference()
    {
        using var dir = new TempDir();
        BuildQWen(dir.Directory);
        using var model = CausalLM.Load(dir.Directory);
        Assert.IsType<QWen>(model.Config.Architecture);
        using var expected = new Expected(Path.Combine(Source, "expected.safetensors"));
        foreach (var n in new[] { 33, 130 })
        {
            float diff = Expected.MaxAbsDiff(expected.Floats($"logits_len{n}"), Logits(model, expected.Ids($"ids_len{n}")));
            Assert.True(diff < 1e-3f, $"len {n}: max |Δlogit| = {diff}");
        }
    }

    [Fact]
    public void IncrementalDecodingEqualsFullForwardWithinSeqLength()
    {
        using var dir = new TempDir();
        BuildQWen(dir.Directory);
        using var model = CausalLM.Load(dir.Directory);
        using var expected = new Expected(Path.Combine(Source, "expected.safetensors"));
        var ids = expected.Ids("ids_len33");
        var full = Logits(model, ids);
        var cache = model.NewCache(4);
        model.Forward(cache, ids.AsSpan(0, 5));
        for (int t = 5; t < ids.Length; t++)
        {
            var step = model.Forward(cache, ids.AsSpan(t, 1));
            Assert.True(Expected.MaxAbsDiff(full.AsSpan(t * model.VocabSize, model.VocabSize), step) < 1e-4f, $"position {t}");
        }
    }

    /// <summary>
    /// With seq_length shrunk to 16, the 33-token prompt is past it: dynamic NTK stretches the rotary base for
    /// the whole prompt (only position 0, where rotation is the identity, is unchanged), and log-n scaling
    /// changes positions ≥ 16 only. Both switched off, seq_length changes nothing.
    /// </summary>
    [Theory]
    [InlineData(false, false, 33)]
    [InlineData(false, true, 16)]
    [InlineData(true, false, 1)]
    [InlineData(true, true, 1)]
    public void NtkAndLognActOnlyBeyondSeqLength(bool ntk, bool logn, int unchangedRows)
    {
        using var dir = new TempDir();
        BuildQWen(dir.Directory, seqLength: 16, dynamicNtk: ntk, lognAttn: logn);
        using var model = CausalLM.Load(dir.Directory);
        using var expected = new Expected(Path.Combine(Source, "expected.safetensors"));
        var want = expected.Floats("logits_len33");
        var got = Logits(model, expected.Ids("ids_len33"));
        int v = model.VocabSize;
        for (int r = 0; r < 33; r++)
        {
            float diff = Expected.MaxAbsDiff(want.AsSpan(r * v, v), got.AsSpan(r * v, v));
            if (r < unchangedRows) Assert.True(diff < 1e-3f, $"row {r} should match qwen2: {diff}");
            else Assert.True(diff > 1e-3f, $"row {r} should differ from qwen2 (ntk {ntk}, logn {logn}): {diff}");
        }
    }

    /// <summary>alpha = max(2^ceil(log2(len / seq) + 1) − 1, 1), worked by hand.</summary>
    [Theory]
    [InlineData(4096, 2048, 3.0)]   // log2(2) + 1 = 2 → 2² − 1
    [InlineData(1000, 2048, 1.0)]   // log2(0.49) + 1 = −0.03 → ceil 0 → 2⁰ − 1 = 0 → clamped to 1
    [InlineData(8192, 2048, 7.0)]   // log2(4) + 1 = 3 → 2³ − 1
    [InlineData(2048, 2048, 1.0)]   // exactly seq_length: 2¹ − 1
    [InlineData(2049, 2048, 3.0)]   // just past: ceil(1.0007) = 2
    [InlineData(3000, 2048, 3.0)]   // ceil(1.55) = 2
    [InlineData(8193, 2048, 15.0)]  // ceil(3.0002) = 4
    [InlineData(33, 16, 7.0)]       // log2(2.06) + 1 = 2.04 → 3
    [InlineData(1, 2048, 1.0)]
    public void NtkAlphaMatchesHandWorkedValues(int length, int seqLength, double alpha) =>
        Assert.Equal(alpha, QWen.NtkAlpha(length, seqLength));
}
