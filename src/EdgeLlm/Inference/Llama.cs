using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Inference;

/// <summary>
/// <c>LlamaForCausalLM</c> and <c>Qwen2ForCausalLM</c> (the same block; Qwen2 adds q/k/v biases):
/// pre-RMSNorm, rotary grouped-query attention, SwiGLU MLP. Field names follow the checkpoint's
/// tensor names (<c>model.layers.N.self_attn.q_proj</c>, <c>mlp.gate_proj</c>, …).
/// </summary>
public sealed class Llama : CausalLM
{
    private sealed record Layer(
        float[] InputLayernorm, TensorView QProj, TensorView KProj, TensorView VProj, TensorView OProj,
        float[]? QBias, float[]? KBias, float[]? VBias, float[]? OBias,
        float[] PostAttentionLayernorm, TensorView GateProj, TensorView UpProj, TensorView DownProj,
        float[]? GateBias, float[]? UpBias, float[]? DownBias);

    private readonly Layer[] layers;
    private readonly float[] norm;
    private readonly RotaryEmbedding rope;

    public Llama(Checkpoint checkpoint, EngineOptions? options = null) : base(checkpoint, options, "model.embed_tokens.weight", "lm_head.weight")
    {
        var c = Config;
        layers = new Layer[c.NumLayers];
        for (int i = 0; i < c.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            var shape = c.Layer(i);
            int q = shape.NumHeads * c.HeadDim, kv = shape.NumKvHeads * c.HeadDim, f = shape.IntermediateSize;
            float[]? Bias(string name, int n) => c.AttentionBias ? Vector(p + name, n) : null;
            float[]? MlpBias(string name, int n) => c.MlpBias ? Vector(p + name, n) : null;
            layers[i] = new Layer(
                Vector(p + "input_layernorm.weight", c.HiddenSize),
                Matrix(p + "self_attn.q_proj.weight", q, c.HiddenSize),
                Matrix(p + "self_attn.k_proj.weight", kv, c.HiddenSize),
                Matrix(p + "self_attn.v_proj.weight", kv, c.HiddenSize),
                Matrix(p + "self_attn.o_proj.weight", c.HiddenSize, q),
                Bias("self_attn.q_proj.bias", q), Bias("self_attn.k_proj.bias", kv), Bias("self_attn.v_proj.bias", kv),
                c.Architecture == Architecture.Llama && c.AttentionBias ? Vector(p + "self_attn.o_proj.bias", c.HiddenSize) : null,
                Vector(p + "post_attention_layernorm.weight", c.HiddenSize),
                Matrix(p + "mlp.gate_proj.weight", f, c.HiddenSize),
                Matrix(p + "mlp.up_proj.weight", f, c.HiddenSize),
                Matrix(p + "mlp.down_proj.weight", c.HiddenSize, f),
                MlpBias("mlp.gate_proj.bias", f), MlpBias("mlp.up_proj.bias", f),
                MlpBias("mlp.down_proj.bias", c.HiddenSize));
        }
        norm = Vector("model.norm.weight", c.HiddenSize);
        rope = CreateRope(c.Rope);
    }

    private protected override void Block(int layer, ForwardState s, float[] x)
    {
        var c = Config;
        var w = layers[layer];
        var (heads, kvHeads, f) = c.Layer(layer);
        int rows = s.Rows, dim = c.HiddenSize, qWidth = heads * c.HeadDim, kvWidth = kvHeads * c.HeadDim;
        float eps = (float)c.NormEps;

        var h = s.Buffer("h", dim);
        Ops.RmsNorm(x.AsSpan(0, rows * dim), w.InputLayernorm, eps, h, dim);
        Observer?.ProjectionInput(layer, Projection.QueryKeyValue, h, rows, dim);
        var q = s.Buffer("q", qWidth);
        var k = s.Buffer("k", kvWidth);
        var v = s.Buffer("v", kvWidth);
        MatMul.Linear(h, rows, new LinearTarget(w.QProj, w.QBias, q), new LinearTarget(w.KProj, w.KBias, k), new LinearTarget(w.VProj, w.VBias, v));
        for (int r = 0; r < rows; r++)
        {
            rope.Apply(q.AsSpan(r * qWidth, qWidth), heads, c.HeadDim, s.RowPosition[r]);
            rope.Apply(k.AsSpan(r * kvWidth, kvWidth), kvHeads, c.HeadDim, s.RowPosition[r]);
        }
        var attn = s.Buffer("attn", qWidth);
        Attention.Run(s, layer, heads, kvHeads, c.HeadDim, q, k, v, attn, 1f / MathF.Sqrt(c.HeadDim));
        Observer?.ProjectionInput(layer, Projection.AttentionOutput, attn, rows, qWidth);
        MatMul.Linear(attn, rows, w.OProj, w.OBias, h);
        Residual.Add(x, h, rows * dim);

        Ops.RmsNorm(x.AsSpan(0, rows * dim), w.PostAttentionLayernorm, eps, h, dim);
        Observer?.ProjectionInput(layer, Projection.MlpInput, h, rows, dim);
        var gate = s.Buffer("gate", f);
        var up = s.Buffer("up", f);
        MatMul.Linear(h, rows, new LinearTarget(w.GateProj, w.GateBias, gate), new LinearTarget(w.UpProj, w.UpBias, up));
        Ops.SiluMultiply(gate.AsSpan(0, rows * f), up);
        Observer?.ProjectionInput(layer, Projection.MlpOutput, gate, rows, f);
        MatMul.Linear(gate, rows, w.DownProj, w.DownBias, h);
        Residual.Add(x, h, rows * dim);
    }

    private protected override void FinalNorm(float[] x, int rows) =>
        Ops.RmsNorm(x.AsSpan(0, rows * Config.HiddenSize), norm, (float)Config.NormEps, x, Config.HiddenSize);
}
