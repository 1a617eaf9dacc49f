using System.Text.Json.Nodes;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Inference.Backends;

namespace EdgeLlm.Architectures;

/// <summary>
/// <c>PhiForCausalLM</c> (Phi-2): one LayerNorm feeds attention and MLP in parallel, both added to the residual;
/// partial rotary (the first <c>partial_rotary_factor</c> of each head); gelu_new MLP; biases everywhere, the head included.
/// </summary>
public sealed class Phi : ModelArchitecture
{
    public static Phi Instance { get; } = new();

    private Phi() { }

    // Checkpoint tensor names (transformers' modeling_phi), spelled once.
    private const string EmbedTokens = "model.embed_tokens.weight", LayerPrefix = "model.layers.", FinalLayernorm = "model.final_layernorm",
        LmHead = "lm_head", InputLayernorm = "input_layernorm", QProj = "self_attn.q_proj", KProj = "self_attn.k_proj",
        VProj = "self_attn.v_proj", Dense = "self_attn.dense", Fc1 = "mlp.fc1", Fc2 = "mlp.fc2";

    public override string Name => "PhiForCausalLM";

    public override string Summary => "LayerNorm, parallel attention and MLP, partial rotary, gelu_new, biases everywhere";

    /// <summary>What <see cref="Inference.Kernels.Ops.Activate"/> computes, for Phi's MLP.</summary>
    private static readonly string[] Activations = ["gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu", "silu", "swish"];

    internal override ModelConfig ReadConfig(ConfigReader r)
    {
        if (r.OptBool("qk_layernorm") == true) throw r.Fail("qk_layernorm = true is not supported");
        int hidden = r.Int("hidden_size"), heads = r.Int("num_attention_heads");
        int headDim = hidden / heads;
        double partial = r.OptDouble("partial_rotary_factor")
            ?? ((r.Raw["rope_parameters"] as JsonObject)?["partial_rotary_factor"] is { } pf
                ? r.Convert<double>("rope_parameters.partial_rotary_factor", pf) : 0.5);
        if (!(partial >= 0 && partial <= 1)) throw r.Fail($"field 'partial_rotary_factor' must lie in [0, 1], found {partial}");
        return r.Common(this) with
        {
            HiddenSize = hidden,
            IntermediateSize = r.Int("intermediate_size"),
            NumHeads = heads,
            NumKvHeads = r.KvHeads(heads),
            HeadDim = headDim,
            NormEps = r.Epsilon("layer_norm_eps"),
            HiddenAct = r.Activation(Activations, "gelu_new", Name),
            Rope = r.ReadRope(headDim, partial, defaultTheta: 10000),
            AttentionBias = true,
            MlpBias = true,
            TieWordEmbeddings = r.OptBool("tie_word_embeddings") ?? false,
        };
    }

    public override IReadOnlyList<TensorSpec> Tensors(ModelConfig c)
    {
        long d = c.HiddenSize, v = c.VocabSize;
        var list = new List<TensorSpec> { new(EmbedTokens, [v, d], TensorRole.Embedding) };
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = LayerPrefix + i + ".";
            var s = c.Layer(i);
            long q = (long)s.NumHeads * c.HeadDim, kv = (long)s.NumKvHeads * c.HeadDim, f = s.IntermediateSize;
            list.AddRange(Norm(p + InputLayernorm, d, true));
            list.AddRange(Linear(p + QProj, q, d, true));
            list.AddRange(Linear(p + KProj, kv, d, true));
            list.AddRange(Linear(p + VProj, kv, d, true));
            list.AddRange(Linear(p + Dense, d, q, true));
            list.AddRange(Linear(p + Fc1, f, d, true));
            list.AddRange(Linear(p + Fc2, d, f, true));
        }
        list.AddRange(Norm(FinalLayernorm, d, true));
        list.Add(new(LmHead + ".weight", [v, d], TensorRole.Head));
        list.Add(new(LmHead + ".bias", [v], TensorRole.Bias));
        return list;
    }

    /// <summary>
    /// transformers' PhiAttention derives head_dim from hidden_size / num_attention_heads, so a Phi with fewer heads
    /// would not load: only MLP channels and whole layers are pruned.
    /// </summary>
    public override PruningLayout Pruning(ModelConfig c) => new(LayerPrefix, QProj, KProj, VProj, Dense, [Fc1], Fc2,
        CanPruneHeads: false, HasOutputBiases: true, CanStoreOutputBiases: true);

    public override IReadOnlyList<ScratchBuffer> ScratchBuffers(ModelConfig c)
    {
        var (d, q, kv, f) = WidestWidths(c);
        return [new("x", d), new("h", d), new("q", q), new("k", kv), new("v", kv), new("ff", f), new("attn", q), new("attn_out", d)];
    }

    internal override DecoderModel Load(Checkpoint checkpoint, IBackend backend) => new Model(checkpoint, backend);

    private sealed record Layer(
        DeviceVector InputLayernormWeight, DeviceVector InputLayernormBias,
        DeviceMatrix QProj, DeviceVector QBias, DeviceMatrix KProj, DeviceVector KBias, DeviceMatrix VProj, DeviceVector VBias,
        DeviceMatrix Dense, DeviceVector DenseBias, DeviceMatrix Fc1, DeviceVector Fc1Bias, DeviceMatrix Fc2, DeviceVector Fc2Bias,
        AttentionShape Attention);

    private sealed class Model : DecoderModel
    {
        private readonly Layer[] layers;
        private readonly DeviceVector finalWeight, finalBias;
        private readonly RotaryTable rope;
        private readonly ActivationFunction activation;

        public Model(Checkpoint checkpoint, IBackend backend) : base(checkpoint, backend, EmbedTokens, LmHead + ".weight", LmHead + ".bias")
        {
            var c = Config;
            int d = c.HiddenSize;
            layers = new Layer[c.NumLayers];
            for (int i = 0; i < c.NumLayers; i++)
            {
                string p = LayerPrefix + i + ".";
                var s = c.Layer(i);
                int q = s.NumHeads * c.HeadDim, kv = s.NumKvHeads * c.HeadDim, f = s.IntermediateSize;
                layers[i] = new Layer(
                    Vector(p + InputLayernorm + ".weight", d), Vector(p + InputLayernorm + ".bias", d),
                    Matrix(p + QProj + ".weight", q, d), Vector(p + QProj + ".bias", q),
                    Matrix(p + KProj + ".weight", kv, d), Vector(p + KProj + ".bias", kv),
                    Matrix(p + VProj + ".weight", kv, d), Vector(p + VProj + ".bias", kv),
                    Matrix(p + Dense + ".weight", d, q), Vector(p + Dense + ".bias", d),
                    Matrix(p + Fc1 + ".weight", f, d), Vector(p + Fc1 + ".bias", f),
                    Matrix(p + Fc2 + ".weight", d, f), Vector(p + Fc2 + ".bias", d),
                    new AttentionShape(s.NumHeads, s.NumKvHeads, c.HeadDim, 1f / MathF.Sqrt(c.HeadDim)));
            }
            finalWeight = Vector(FinalLayernorm + ".weight", d);
            finalBias = Vector(FinalLayernorm + ".bias", d);
            rope = backend.CreateRotary(c.Rope);
            activation = ActivationFunctions.Parse(c.HiddenAct);
        }

        public override void Block(ForwardPass pass, int layer, Activation x)
        {
            var b = Backend;
            var w = layers[layer];
            var a = w.Attention;
            int dim = Config.HiddenSize, qWidth = a.Heads * a.HeadDim, kvWidth = a.KvHeads * a.HeadDim, f = w.Fc1.Rows;

            var h = b.Scratch("h", dim);
            b.LayerNorm(x, w.InputLayernormWeight, w.InputLayernormBias, (float)Config.NormEps, h);
            pass.Observe(layer, Projection.QueryKeyValue, h);
            var q = b.Scratch("q", qWidth);
            var k = b.Scratch("k", kvWidth);
            var v = b.Scratch("v", kvWidth);
            var ff = b.Scratch("ff", f);
            // Attention and MLP read the same normed input (Phi's parallel block): one dispatch for all four.
            b.Linear(h, [new(w.QProj, w.QBias, q), new(w.KProj, w.KBias, k), new(w.VProj, w.VBias, v), new(w.Fc1, w.Fc1Bias, ff)]);
            b.Rotary(q, a.Heads, a.HeadDim, rope, pass.Step.AllRows);
            b.Rotary(k, a.KvHeads, a.HeadDim, rope, pass.Step.AllRows);
            var attn = b.Scratch("attn", qWidth);
            b.Attention(layer, q, k, v, attn, a);
            var attnOut = b.Scratch("attn_out", dim);
            pass.Observe(layer, Projection.AttentionOutput, attn);
            b.Linear(attn, [new(w.Dense, w.DenseBias, attnOut)]);

            b.Activate(activation, ff);
            pass.Observe(layer, Projection.MlpOutput, ff);
            b.Linear(ff, [new(w.Fc2, w.Fc2Bias, h)]);
            b.Add(x, attnOut);
            b.Add(x, h);
        }

        public override void FinalNorm(Activation x) => Backend.LayerNorm(x, finalWeight, finalBias, (float)Config.NormEps, x);
    }
}
