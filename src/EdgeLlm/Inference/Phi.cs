using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Inference;

/// <summary>
/// <c>PhiForCausalLM</c> (Phi-2): one LayerNorm feeds attention and MLP in parallel, both added to
/// the residual; partial rotary (the first <c>partial_rotary_factor</c> of each head); gelu_new MLP;
/// biases everywhere, the head included.
/// </summary>
public sealed class Phi : CausalLM
{
    private sealed record Layer(
        float[] InputLayernormWeight, float[] InputLayernormBias,
        TensorView QProj, float[] QBias, TensorView KProj, float[] KBias, TensorView VProj, float[] VBias,
        TensorView Dense, float[] DenseBias, TensorView Fc1, float[] Fc1Bias, TensorView Fc2, float[] Fc2Bias);

    private readonly Layer[] layers;
    private readonly float[] finalLayernormWeight, finalLayernormBias;
    private readonly RotaryEmbedding rope;

    public Phi(Checkpoint checkpoint, EngineOptions? options = null) : base(checkpoint, options, "model.embed_tokens.weight", "lm_head.weight", "lm_head.bias")
    {
        var c = Config;
        int d = c.HiddenSize;
        layers = new Layer[c.NumLayers];
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            var shape = c.Layer(i);
            int q = shape.NumHeads * c.HeadDim, kv = shape.NumKvHeads * c.HeadDim, f = shape.IntermediateSize;
            layers[i] = new Layer(
                Vector(p + "input_layernorm.weight", d), Vector(p + "input_layernorm.bias", d),
                Matrix(p + "self_attn.q_proj.weight", q, d), Vector(p + "self_attn.q_proj.bias", q),
                Matrix(p + "self_attn.k_proj.weight", kv, d), Vector(p + "self_attn.k_proj.bias", kv),
                Matrix(p + "self_attn.v_proj.weight", kv, d), Vector(p + "self_attn.v_proj.bias", kv),
                Matrix(p + "self_attn.dense.weight", d, q), Vector(p + "self_attn.dense.bias", d),
                Matrix(p + "mlp.fc1.weight", f, d), Vector(p + "mlp.fc1.bias", f),
                Matrix(p + "mlp.fc2.weight", d, f), Vector(p + "mlp.fc2.bias", d));
        }
        finalLayernormWeight = Vector("model.final_layernorm.weight", d);
        finalLayernormBias = Vector("model.final_layernorm.bias", d);
        rope = CreateRope(c.Rope);
    }

    private protected override void Block(int layer, ForwardState s, float[] x)
    {
        var c = Config;
        var w = layers[layer];
        var (heads, kvHeads, f) = c.Layer(layer);
        int rows = s.Rows, dim = c.HiddenSize, qWidth = heads * c.HeadDim, kvWidth = kvHeads * c.HeadDim;

        var h = s.Buffer("h", dim);
        Ops.LayerNorm(x.AsSpan(0, rows * dim), w.InputLayernormWeight, w.InputLayernormBias, (float)c.NormEps, h, dim);
        Observer?.ProjectionInput(layer, Projection.QueryKeyValue, h, rows, dim);
        var q = s.Buffer("q", qWidth);
        var k = s.Buffer("k", kvWidth);
        var v = s.Buffer("v", kvWidth);
        var ff = s.Buffer("ff", f);
        // Attention and MLP read the same normed input (Phi's parallel block): one dispatch for all four.
        MatMul.Linear(h, rows, new LinearTarget(w.QProj, w.QBias, q), new LinearTarget(w.KProj, w.KBias, k),
            new LinearTarget(w.VProj, w.VBias, v), new LinearTarget(w.Fc1, w.Fc1Bias, ff));
        for (int r = 0; r < rows; r++)
        {
            rope.Apply(q.AsSpan(r * qWidth, qWidth), heads, c.HeadDim, s.RowPosition[r]);
            rope.Apply(k.AsSpan(r * kvWidth, kvWidth), kvHeads, c.HeadDim, s.RowPosition[r]);
        }
        var attn = s.Buffer("attn", qWidth);
        Attention.Run(s, layer, heads, kvHeads, c.HeadDim, q, k, v, attn, 1f / MathF.Sqrt(c.HeadDim));
        var attnOut = s.Buffer("attn_out", dim);
        Observer?.ProjectionInput(layer, Projection.AttentionOutput, attn, rows, qWidth);
        MatMul.Linear(attn, rows, w.Dense, w.DenseBias, attnOut);

        Ops.Activate(c.HiddenAct, ff.AsSpan(0, rows * f));
        Observer?.ProjectionInput(layer, Projection.MlpOutput, ff, rows, f);
        MatMul.Linear(ff, rows, w.Fc2, w.Fc2Bias, h);
        Residual.Add(x, attnOut, rows * dim);
        Residual.Add(x, h, rows * dim);
    }

    private protected override void FinalNorm(float[] x, int rows) =>
        Ops.LayerNorm(x.AsSpan(0, rows * Config.HiddenSize), finalLayernormWeight, finalLayernormBias,
            (float)Config.NormEps, x, Config.HiddenSize);
}
