using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Inference;

/// <summary>
/// Qwen-7B's own layout (<c>QWenLMHeadModel</c>): RMSNorm <c>ln_1</c>/<c>ln_2</c>, fused
/// <c>attn.c_attn</c> (q|k|v with bias), <c>attn.c_proj</c>, and an MLP
/// <c>c_proj(w1(x) · silu(w2(x)))</c>. Within <c>seq_length</c> it is plain rotary attention; beyond
/// it, log-n query scaling and dynamic NTK (the rotary base stretched by an alpha fixed when the
/// prompt is prefilled, as the original code keeps it for the decoding steps) apply when enabled.
/// </summary>
public sealed class QWen : CausalLM
{
    private sealed record Layer(float[] Ln1, TensorView CAttn, float[] CAttnBias, TensorView AttnCProj,
        float[] Ln2, TensorView W1, TensorView W2, TensorView MlpCProj);

    private readonly Layer[] layers;
    private readonly float[] lnF;
    private readonly Dictionary<double, RotaryEmbedding> ropeByAlpha = new();
    private readonly Dictionary<KvCache, double> alphaByCache = new(ReferenceEqualityComparer.Instance);

    public QWen(Checkpoint checkpoint, EngineOptions? options = null) : base(checkpoint, options, "transformer.wte.weight", "lm_head.weight")
    {
        var c = Config;
        int d = c.HiddenSize;
        layers = new Layer[c.NumLayers];
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"transformer.h.{i}.";
            int proj = c.Layer(i).NumHeads * c.HeadDim, f = c.Layer(i).IntermediateSize;
            layers[i] = new Layer(
                Vector(p + "ln_1.weight", d),
                Matrix(p + "attn.c_attn.weight", 3 * proj, d), Vector(p + "attn.c_attn.bias", 3 * proj),
                Matrix(p + "attn.c_proj.weight", d, proj),
                Vector(p + "ln_2.weight", d),
                Matrix(p + "mlp.w1.weight", f, d), Matrix(p + "mlp.w2.weight", f, d),
                Matrix(p + "mlp.c_proj.weight", d, f));
        }
        lnF = Vector("transformer.ln_f.weight", d);
    }

    /// <summary>The NTK alpha of the original code: 2^ceil(log2(len / seq_length) + 1) − 1, at least 1.</summary>
    public static double NtkAlpha(int length, int seqLength)
    {
        double context = Math.Log2((double)length / seqLength) + 1;
        return Math.Max(Math.Pow(2, Math.Ceiling(context)) - 1, 1);
    }

    private RotaryEmbedding Rope(double alpha)
    {
        if (!ropeByAlpha.TryGetValue(alpha, out var rope))
        {
            int dim = Config.Rope.RotaryDim;
            double theta = Config.Rope.Theta * Math.Pow(alpha, dim / (dim - 2.0));
            ropeByAlpha[alpha] = rope = CreateRope(Config.Rope with { Theta = theta });
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

    private float LognScale(int position) =>
        Config.UseLognAttn && position + 1 > Config.SeqLength
            ? (float)(Math.Log(position + 1) / Math.Log(Config.SeqLength)) : 1f;

    private protected override void Block(int layer, ForwardState s, float[] x)
    {
        var c = Config;
        var w = layers[layer];
        var (heads, _, f) = c.Layer(layer);
        int rows = s.Rows, dim = c.HiddenSize, width = heads * c.HeadDim;
        float eps = (float)c.NormEps;

        var h = s.Buffer("h", dim);
        Ops.RmsNorm(x.AsSpan(0, rows * dim), w.Ln1, eps, h, dim);
        Observer?.ProjectionInput(layer, Projection.QueryKeyValue, h, rows, dim);
        var qkv = s.Buffer("qkv", 3 * width);
        MatMul.Linear(h, rows, w.CAttn, w.CAttnBias, qkv);
        var q = s.Buffer("q", width);
        var k = s.Buffer("k", width);
        var v = s.Buffer("v", width);
        for (int r = 0; r < rows; r++)
        {
            Array.Copy(qkv, r * 3 * width, q, r * width, width);
            Array.Copy(qkv, r * 3 * width + width, k, r * width, width);
            Array.Copy(qkv, r * 3 * width + 2 * width, v, r * width, width);
            var rope = Rope(AlphaFor(s.Segments[s.RowSegment[r]]));
            int pos = s.RowPosition[r];
            rope.Apply(q.AsSpan(r * width, width), heads, c.HeadDim, pos);
            rope.Apply(k.AsSpan(r * width, width), heads, c.HeadDim, pos);
            float logn = LognScale(pos);
            if (logn != 1f)
                System.Numerics.Tensors.TensorPrimitives.Multiply(q.AsSpan(r * width, width), logn, q.AsSpan(r * width, width));
        }
        var attn = s.Buffer("attn", width);
        Attention.Run(s, layer, heads, heads, c.HeadDim, q, k, v, attn, 1f / MathF.Sqrt(c.HeadDim));
        Observer?.ProjectionInput(layer, Projection.AttentionOutput, attn, rows, width);
        MatMul.Linear(attn, rows, w.AttnCProj, default, h);
        Residual.Add(x, h, rows * dim);

        Ops.RmsNorm(x.AsSpan(0, rows * dim), w.Ln2, eps, h, dim);
        Observer?.ProjectionInput(layer, Projection.MlpInput, h, rows, dim);
        var a1 = s.Buffer("w1", f);
        var a2 = s.Buffer("w2", f);
        MatMul.Linear(h, rows, new LinearTarget(w.W1, null, a1), new LinearTarget(w.W2, null, a2));
        Ops.SiluMultiply(a2.AsSpan(0, rows * f), a1);
        Observer?.ProjectionInput(layer, Projection.MlpOutput, a2, rows, f);
        MatMul.Linear(a2, rows, w.MlpCProj, default, h);
        Residual.Add(x, h, rows * dim);
    }

    private protected override void FinalNorm(float[] x, int rows) =>
        Ops.RmsNorm(x.AsSpan(0, rows * Config.HiddenSize), lnF, (float)Config.NormEps, x, Config.HiddenSize);
}
