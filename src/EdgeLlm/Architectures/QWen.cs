using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Inference.Backends;

namespace EdgeLlm.Architectures;

/// <summary>
/// Qwen-7B's own layout (<c>QWenLMHeadModel</c>, its modeling_qwen.py): RMSNorm <c>ln_1</c>/<c>ln_2</c>, fused
/// <c>attn.c_attn</c> (q|k|v with bias), <c>attn.c_proj</c>, and an MLP <c>c_proj(w1(x) · silu(w2(x)))</c>; config.json's
/// intermediate_size counts both MLP branches. Within <c>seq_length</c> it is plain rotary attention; beyond it, log-n
/// query scaling and dynamic NTK (the rotary base stretched by an alpha fixed when the prompt is prefilled, as the
/// original code keeps it for the decoding steps) apply when enabled.
/// </summary>
public sealed class QWen : ModelArchitecture
{
    public static QWen Instance { get; } = new();

    private QWen() { }

    // Checkpoint tensor names (modeling_qwen.py), spelled once.
    private const string Wte = "transformer.wte.weight", LayerPrefix = "transformer.h.", LnF = "transformer.ln_f", LmHead = "lm_head.weight",
        Ln1 = "ln_1", CAttn = "attn.c_attn", AttnCProj = "attn.c_proj", Ln2 = "ln_2", W1 = "mlp.w1", W2 = "mlp.w2", MlpCProj = "mlp.c_proj";

    public override string Name => "QWenLMHeadModel";

    public override string Summary => "Qwen-7B: RMSNorm, fused c_attn (q|k|v), w1·silu(w2) MLP, optional dynamic NTK and log-n scaling";

    internal override ModelConfig ReadConfig(ConfigReader r)
    {
        int hidden = r.Int("hidden_size"), heads = r.Int("num_attention_heads");
        int headDim = r.OptInt("kv_channels") ?? hidden / heads;
        double pct = r.OptDouble("rotary_pct") ?? 1.0;
        if (!(pct >= 0 && pct <= 1)) throw r.Fail($"field 'rotary_pct' must lie in [0, 1], found {pct}");
        int rotaryDim = (int)(headDim * pct);
        return r.Common(this) with
        {
            HiddenSize = hidden,
            IntermediateSize = ChannelsFromConfig(r.Int("intermediate_size")),
            NumHeads = heads,
            NumKvHeads = heads,
            HeadDim = headDim,
            NormEps = r.Epsilon("layer_norm_epsilon"),
            HiddenAct = "silu",
            Rope = new RopeConfig(r.PositiveNumber("rotary_emb_base", r.OptDouble("rotary_emb_base") ?? 10000), rotaryDim),
            AttentionBias = true,
            MlpBias = !(r.OptBool("no_bias") ?? true),
            TieWordEmbeddings = r.OptBool("tie_word_embeddings") ?? false,
            SeqLength = r.OptInt("seq_length") ?? 2048,
            UseDynamicNtk = r.OptBool("use_dynamic_ntk") ?? false,
            UseLognAttn = r.OptBool("use_logn_attn") ?? false,
        };
    }

    public override bool HasKvHeadsField => false;

    /// <summary>modeling_qwen: ff_dim_in = intermediate_size // 2 (each of w1 and w2 has half).</summary>
    public override int ConfigIntermediateSize(int channels) => 2 * channels;

    public override int ChannelsFromConfig(int intermediateSize) => intermediateSize / 2;

    public override IReadOnlyList<TensorSpec> Tensors(ModelConfig c)
    {
        long d = c.HiddenSize, v = c.VocabSize;
        var list = new List<TensorSpec> { new(Wte, [v, d], TensorRole.Embedding) };
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = LayerPrefix + i + ".";
            long q = (long)c.Layer(i).NumHeads * c.HeadDim, f = c.Layer(i).IntermediateSize;
            list.AddRange(Norm(p + Ln1, d, false));
            list.AddRange(Linear(p + CAttn, 3 * q, d, true));
            list.AddRange(Linear(p + AttnCProj, d, q, false));
            list.AddRange(Norm(p + Ln2, d, false));
            list.AddRange(Linear(p + W1, f, d, false));
            list.AddRange(Linear(p + W2, f, d, false));
            list.AddRange(Linear(p + MlpCProj, d, f, false));
        }
        list.AddRange(Norm(LnF, d, false));
        list.Add(new(LmHead, [v, d], TensorRole.Head));
        return list;
    }

    /// <summary>
    /// modeling_qwen.py splits c_attn's output at hidden_size, takes head_dim = hidden_size / num_attention_heads and builds
    /// c_proj as Linear(hidden_size, projection_size): with fewer heads none of these shapes hold, so heads are kept (q/k/v
    /// are fused in c_attn and never sliced); c_proj has no bias unless no_bias is false, and the MLP never has one.
    /// </summary>
    public override PruningLayout Pruning(ModelConfig c) => new(LayerPrefix, CAttn, CAttn, CAttn, AttnCProj, [W1, W2], MlpCProj,
        CanPruneHeads: false, HasOutputBiases: false, CanStoreOutputBiases: false);

    public override IReadOnlyList<ScratchBuffer> ScratchBuffers(ModelConfig c)
    {
        var (d, q, _, f) = WidestWidths(c);
        return [new("x", d), new("h", d), new("qkv", 3 * q), new("q", q), new("k", q), new("v", q), new("attn", q), new("w1", f), new("w2", f)];
    }

    /// <summary>The NTK alpha of the original code: 2^ceil(log2(len / seq_length) + 1) − 1, at least 1.</summary>
    public static double NtkAlpha(int length, int seqLength)
    {
        double context = Math.Log2((double)length / seqLength) + 1;
        return Math.Max(Math.Pow(2, Math.Ceiling(context)) - 1, 1);
    }

    internal override DecoderModel Load(Checkpoint checkpoint, IBackend backend) => new Model(checkpoint, backend);

    private sealed record Layer(DeviceVector Ln1, DeviceMatrix CAttn, DeviceVector CAttnBias, DeviceMatrix AttnCProj,
        DeviceVector Ln2, DeviceMatrix W1, DeviceMatrix W2, DeviceMatrix MlpCProj, AttentionShape Attention);

    private sealed class Model : DecoderModel
    {
        private readonly Layer[] layers;
        private readonly DeviceVector lnF;
        private readonly Dictionary<double, RotaryTable> ropeByAlpha = new();
        private readonly Dictionary<KvCache, double> alphaByCache = new(ReferenceEqualityComparer.Instance);
        private RotaryTable[] segmentRope = [];

        public Model(Checkpoint checkpoint, IBackend backend) : base(checkpoint, backend, Wte, LmHead)
        {
            var c = Config;
            int d = c.HiddenSize;
            layers = new Layer[c.NumLayers];
            for (int i = 0; i < c.NumLayers; i++)
            {
                string p = LayerPrefix + i + ".";
                int heads = c.Layer(i).NumHeads, proj = heads * c.HeadDim, f = c.Layer(i).IntermediateSize;
                layers[i] = new Layer(
                    Vector(p + Ln1 + ".weight", d),
                    Matrix(p + CAttn + ".weight", 3 * proj, d), Vector(p + CAttn + ".bias", 3 * proj),
                    Matrix(p + AttnCProj + ".weight", d, proj),
                    Vector(p + Ln2 + ".weight", d),
                    Matrix(p + W1 + ".weight", f, d), Matrix(p + W2 + ".weight", f, d), Matrix(p + MlpCProj + ".weight", d, f),
                    new AttentionShape(heads, heads, c.HeadDim, 1f / MathF.Sqrt(c.HeadDim)));
            }
            lnF = Vector(LnF + ".weight", d);
        }

        private RotaryTable Rope(double alpha)
        {
            if (!ropeByAlpha.TryGetValue(alpha, out var rope))
            {
                int dim = Config.Rope.RotaryDim;
                double theta = Config.Rope.Theta * Math.Pow(alpha, dim / (dim - 2.0));
                ropeByAlpha[alpha] = rope = Backend.CreateRotary(Config.Rope with { Theta = theta });
            }
            return rope;
        }

        private double AlphaFor(Segment segment)
        {
            if (!Config.UseDynamicNtk) return 1;
            if (segment.Cache.Length == 0 || !alphaByCache.TryGetValue(segment.Cache, out var alpha))
            {
                alpha = NtkAlpha(segment.Cache.Length + segment.Tokens.Length, Config.SeqLength);
                if (alphaByCache.Count > 4096) alphaByCache.Clear();
                alphaByCache[segment.Cache] = alpha;
            }
            return alpha;
        }

        /// <summary>Each sequence's rotary table (its NTK alpha is fixed at prefill, so decoding steps repeat the same calls).</summary>
        public override void BeginStep(ForwardStep step) => segmentRope = step.Segments.Select(s => Rope(AlphaFor(s))).ToArray();

        private void Rotary(ForwardPass pass, Activation x, int heads)
        {
            var b = Backend;
            if (segmentRope.All(r => r == segmentRope[0]))
            {
                if (segmentRope.Length > 0) b.Rotary(x, heads, Config.HeadDim, segmentRope[0], pass.Step.AllRows);
                return;
            }
            for (int s = 0; s < segmentRope.Length; s++) b.Rotary(x, heads, Config.HeadDim, segmentRope[s], pass.Step.RowsOf(s));
        }

        public override void Block(ForwardPass pass, int layer, Activation x)
        {
            var b = Backend;
            var w = layers[layer];
            var a = w.Attention;
            int dim = Config.HiddenSize, width = a.Heads * a.HeadDim, f = w.W1.Rows;
            float eps = (float)Config.NormEps;

            var h = b.Scratch("h", dim);
            b.RmsNorm(x, w.Ln1, eps, h);
            pass.Observe(layer, Projection.QueryKeyValue, h);
            var qkv = b.Scratch("qkv", 3 * width);
            b.Linear(h, [new(w.CAttn, w.CAttnBias, qkv)]);
            var q = b.Scratch("q", width);
            var k = b.Scratch("k", width);
            var v = b.Scratch("v", width);
            b.CopyColumns(qkv, 0, q);
            b.CopyColumns(qkv, width, k);
            b.CopyColumns(qkv, 2 * width, v);
            Rotary(pass, q, a.Heads);
            Rotary(pass, k, a.Heads);
            if (Config.UseLognAttn) b.ScaleByLogPosition(q, Config.SeqLength);
            var attn = b.Scratch("attn", width);
            b.Attention(layer, q, k, v, attn, a);
            pass.Observe(layer, Projection.AttentionOutput, attn);
            b.Linear(attn, [new(w.AttnCProj, null, h)]);
            b.Add(x, h);

            b.RmsNorm(x, w.Ln2, eps, h);
            pass.Observe(layer, Projection.MlpInput, h);
            var a1 = b.Scratch("w1", f);
            var a2 = b.Scratch("w2", f);
            b.Linear(h, [new(w.W1, null, a1), new(w.W2, null, a2)]);
            b.SiluMultiply(a2, a1);
            pass.Observe(layer, Projection.MlpOutput, a2);
            b.Linear(a2, [new(w.MlpCProj, null, h)]);
            b.Add(x, h);
        }

        public override void FinalNorm(Activation x) => Backend.RmsNorm(x, lnF, (float)Config.NormEps, x);
    }
}
