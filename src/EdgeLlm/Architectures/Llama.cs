using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Inference.Backends;

namespace EdgeLlm.Architectures;

/// <summary>
/// <c>LlamaForCausalLM</c> (Llama-3-8B, the trained fixture): pre-RMSNorm, rotary grouped-query attention, SwiGLU MLP;
/// <c>attention_bias</c> gives q/k/v/o biases and <c>mlp_bias</c> gate/up/down biases. <see cref="Qwen2"/> and
/// <see cref="Mistral"/> share this block and override only what differs.
/// </summary>
public class Llama : ModelArchitecture
{
    public static Llama Instance { get; } = new();

    private protected Llama() { }

    // Checkpoint tensor names (transformers' modeling_llama), spelled once.
    private protected const string EmbedTokens = "model.embed_tokens.weight", LayerPrefix = "model.layers.", ModelNorm = "model.norm",
        LmHead = "lm_head.weight", InputLayernorm = "input_layernorm", QProj = "self_attn.q_proj", KProj = "self_attn.k_proj",
        VProj = "self_attn.v_proj", OProj = "self_attn.o_proj", PostAttentionLayernorm = "post_attention_layernorm",
        GateProj = "mlp.gate_proj", UpProj = "mlp.up_proj", DownProj = "mlp.down_proj";

    public override string Name => "LlamaForCausalLM";

    public override string Summary => "pre-RMSNorm, rotary grouped-query attention, SwiGLU MLP";

    /// <summary>The engine's SwiGLU MLP uses SiLU; another activation would silently give SiLU's output.</summary>
    private static readonly string[] Activations = ["silu", "swish"];

    internal override ModelConfig ReadConfig(ConfigReader r)
    {
        int hidden = r.Int("hidden_size"), heads = r.Int("num_attention_heads");
        int headDim = r.OptInt("head_dim") ?? hidden / heads;
        return r.Common(this) with
        {
            HiddenSize = hidden,
            IntermediateSize = r.Int("intermediate_size"),
            NumHeads = heads,
            NumKvHeads = r.KvHeads(heads),
            HeadDim = headDim,
            NormEps = r.Epsilon("rms_norm_eps"),
            HiddenAct = r.Activation(Activations, "silu", Name),
            Rope = r.ReadRope(headDim, partialFactor: 1.0, defaultTheta: 10000),
            AttentionBias = r.OptBool("attention_bias") ?? false,
            MlpBias = r.OptBool("mlp_bias") ?? false,
            TieWordEmbeddings = r.OptBool("tie_word_embeddings") ?? false,
        };
    }

    /// <summary>Whether q, k and v carry biases.</summary>
    private protected virtual bool QkvBias(ModelConfig c) => c.AttentionBias;

    /// <summary>Whether o_proj carries a bias (Llama: with attention_bias; Qwen2 never).</summary>
    private protected virtual bool OutputBias(ModelConfig c) => c.AttentionBias;

    /// <summary>The attention's sliding window (0: none).</summary>
    private protected virtual int SlidingWindow(ModelConfig c) => 0;

    public override IReadOnlyList<TensorSpec> Tensors(ModelConfig c)
    {
        long d = c.HiddenSize, v = c.VocabSize;
        var list = new List<TensorSpec> { new(EmbedTokens, [v, d], TensorRole.Embedding) };
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = LayerPrefix + i + ".";
            var s = c.Layer(i);
            long q = (long)s.NumHeads * c.HeadDim, kv = (long)s.NumKvHeads * c.HeadDim, f = s.IntermediateSize;
            list.AddRange(Norm(p + InputLayernorm, d, false));
            list.AddRange(Linear(p + QProj, q, d, QkvBias(c)));
            list.AddRange(Linear(p + KProj, kv, d, QkvBias(c)));
            list.AddRange(Linear(p + VProj, kv, d, QkvBias(c)));
            list.AddRange(Linear(p + OProj, d, q, OutputBias(c)));
            list.AddRange(Norm(p + PostAttentionLayernorm, d, false));
            list.AddRange(Linear(p + GateProj, f, d, c.MlpBias));
            list.AddRange(Linear(p + UpProj, f, d, c.MlpBias));
            list.AddRange(Linear(p + DownProj, d, f, c.MlpBias));
        }
        list.AddRange(Norm(ModelNorm, d, false));
        if (!c.TieWordEmbeddings) list.Add(new(LmHead, [v, d], TensorRole.Head));
        return list;
    }

    /// <summary>transformers' attention_bias / mlp_bias switches add the biases FLAP's compensation needs.</summary>
    public override PruningLayout Pruning(ModelConfig c) => new(LayerPrefix, QProj, KProj, VProj, OProj, [GateProj, UpProj], DownProj,
        CanPruneHeads: true, HasOutputBiases: false, CanStoreOutputBiases: true, BiasSwitches: true);

    /// <summary>
    /// transformers 5 refuses a <c>LlamaConfig</c> whose hidden_size is not a multiple of num_attention_heads
    /// (<c>LlamaConfig.validate_architecture</c>, explicit head_dim or not), so a uniform Llama keeps the count of
    /// KV groups nearest <paramref name="wanted"/> that it accepts, the larger on a tie. Llama-3-8B (4096 wide,
    /// 8 groups of 4 heads) can keep 1, 2, 4 or 8 groups.
    /// </summary>
    public override int LoadableKvGroups(ModelConfig c, int wanted)
    {
        int headsPerGroup = c.NumHeads / c.NumKvHeads;
        return Enumerable.Range(1, c.NumKvHeads)
            .Where(g => c.HiddenSize % (g * headsPerGroup) == 0)
            .OrderBy(g => Math.Abs(g - wanted)).ThenByDescending(g => g)
            .First();
    }

    public override IReadOnlyList<ScratchBuffer> ScratchBuffers(ModelConfig c)
    {
        var (d, q, kv, f) = WidestWidths(c);
        return [new("x", d), new("h", d), new("q", q), new("k", kv), new("v", kv), new("attn", q), new("gate", f), new("up", f)];
    }

    internal override DecoderModel Load(Checkpoint checkpoint, IBackend backend) => new Model(this, checkpoint, backend);

    private sealed record Layer(
        DeviceVector InputLayernorm, DeviceMatrix QProj, DeviceMatrix KProj, DeviceMatrix VProj, DeviceMatrix OProj,
        DeviceVector? QBias, DeviceVector? KBias, DeviceVector? VBias, DeviceVector? OBias,
        DeviceVector PostAttentionLayernorm, DeviceMatrix GateProj, DeviceMatrix UpProj, DeviceMatrix DownProj,
        DeviceVector? GateBias, DeviceVector? UpBias, DeviceVector? DownBias, AttentionShape Attention);

    private sealed class Model : DecoderModel
    {
        private readonly Layer[] layers;
        private readonly DeviceVector norm;
        private readonly RotaryTable rope;

        public Model(Llama arch, Checkpoint checkpoint, IBackend backend) : base(checkpoint, backend, EmbedTokens, LmHead)
        {
            var c = Config;
            int d = c.HiddenSize;
            bool qkvBias = arch.QkvBias(c), oBias = arch.OutputBias(c);
            layers = new Layer[c.NumLayers];
            for (int i = 0; i < c.NumLayers; i++)
            {
                string p = LayerPrefix + i + ".";
                var s = c.Layer(i);
                int q = s.NumHeads * c.HeadDim, kv = s.NumKvHeads * c.HeadDim, f = s.IntermediateSize;
                layers[i] = new Layer(
                    Vector(p + InputLayernorm + ".weight", d),
                    Matrix(p + QProj + ".weight", q, d), Matrix(p + KProj + ".weight", kv, d), Matrix(p + VProj + ".weight", kv, d),
                    Matrix(p + OProj + ".weight", d, q),
                    OptionalVector(qkvBias, p + QProj + ".bias", q), OptionalVector(qkvBias, p + KProj + ".bias", kv),
                    OptionalVector(qkvBias, p + VProj + ".bias", kv), OptionalVector(oBias, p + OProj + ".bias", d),
                    Vector(p + PostAttentionLayernorm + ".weight", d),
                    Matrix(p + GateProj + ".weight", f, d), Matrix(p + UpProj + ".weight", f, d), Matrix(p + DownProj + ".weight", d, f),
                    OptionalVector(c.MlpBias, p + GateProj + ".bias", f), OptionalVector(c.MlpBias, p + UpProj + ".bias", f),
                    OptionalVector(c.MlpBias, p + DownProj + ".bias", d),
                    new AttentionShape(s.NumHeads, s.NumKvHeads, c.HeadDim, 1f / MathF.Sqrt(c.HeadDim), arch.SlidingWindow(c)));
            }
            norm = Vector(ModelNorm + ".weight", d);
            rope = backend.CreateRotary(c.Rope);
        }

        public override void Block(ForwardPass pass, int layer, Activation x)
        {
            var b = Backend;
            var w = layers[layer];
            var a = w.Attention;
            int dim = Config.HiddenSize, qWidth = a.Heads * a.HeadDim, kvWidth = a.KvHeads * a.HeadDim, f = w.GateProj.Rows;
            float eps = (float)Config.NormEps;

            var h = b.Scratch("h", dim);
            b.RmsNorm(x, w.InputLayernorm, eps, h);
            pass.Observe(layer, Projection.QueryKeyValue, h);
            var q = b.Scratch("q", qWidth);
            var k = b.Scratch("k", kvWidth);
            var v = b.Scratch("v", kvWidth);
            b.Linear(h, [new(w.QProj, w.QBias, q), new(w.KProj, w.KBias, k), new(w.VProj, w.VBias, v)]);
            b.Rotary(q, a.Heads, a.HeadDim, rope, pass.Step.AllRows);
            b.Rotary(k, a.KvHeads, a.HeadDim, rope, pass.Step.AllRows);
            var attn = b.Scratch("attn", qWidth);
            b.Attention(layer, q, k, v, attn, a);
            pass.Observe(layer, Projection.AttentionOutput, attn);
            b.Linear(attn, [new(w.OProj, w.OBias, h)]);
            b.Add(x, h);

            b.RmsNorm(x, w.PostAttentionLayernorm, eps, h);
            pass.Observe(layer, Projection.MlpInput, h);
            var gate = b.Scratch("gate", f);
            var up = b.Scratch("up", f);
            b.Linear(h, [new(w.GateProj, w.GateBias, gate), new(w.UpProj, w.UpBias, up)]);
            b.SiluMultiply(gate, up);
            pass.Observe(layer, Projection.MlpOutput, gate);
            b.Linear(gate, [new(w.DownProj, w.DownBias, h)]);
            b.Add(x, h);
        }

        public override void FinalNorm(Activation x) => Backend.RmsNorm(x, norm, (float)Config.NormEps, x);
    }
}
