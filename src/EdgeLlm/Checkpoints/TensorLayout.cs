namespace EdgeLlm.Checkpoints;

/// <summary>A tensor an architecture expects: its checkpoint name, shape, and what it is.</summary>
public sealed record TensorSpec(string Name, long[] Shape, TensorRole Role);

public enum TensorRole { Embedding, Head, Linear, Bias, Norm }

/// <summary>
/// The tensors each architecture's checkpoint holds, derived from its config alone: names exactly as
/// transformers (or Qwen-7B's own code) writes them. Used to create random checkpoints with real
/// shapes, to count parameters without opening weights, and to rewrite pruned checkpoints.
/// </summary>
public static class TensorLayout
{
    public static IReadOnlyList<TensorSpec> For(ModelConfig c)
    {
        var list = new List<TensorSpec>();
        long d = c.HiddenSize, v = c.VocabSize, f = 0, q = 0, kv = 0;
        // Widths of layer i (they differ only in a non-uniform pruned checkpoint).
        void Shape(int i) => (q, kv, f) = ((long)c.Layer(i).NumHeads * c.HeadDim, (long)c.Layer(i).NumKvHeads * c.HeadDim, c.Layer(i).IntermediateSize);
        void Linear(string name, long rows, long cols, bool bias)
        {
            list.Add(new(name + ".weight", [rows, cols], TensorRole.Linear));
            if (bias) list.Add(new(name + ".bias", [rows], TensorRole.Bias));
        }
        void Norm(string name, bool bias)
        {
            list.Add(new(name + ".weight", [d], TensorRole.Norm));
            if (bias) list.Add(new(name + ".bias", [d], TensorRole.Norm));
        }
        switch (c.Architecture)
        {
            case Architecture.Llama or Architecture.Qwen2:
                list.Add(new("model.embed_tokens.weight", [v, d], TensorRole.Embedding));
                for (int i = 0; i < c.NumLayers; i++)
                {
                    Shape(i);
                    string p = $"model.layers.{i}.";
                    Norm(p + "input_layernorm", false);
                    Linear(p + "self_attn.q_proj", q, d, c.AttentionBias);
                    Linear(p + "self_attn.k_proj", kv, d, c.AttentionBias);
                    Linear(p + "self_attn.v_proj", kv, d, c.AttentionBias);
                    Linear(p + "self_attn.o_proj", d, q, c.Architecture == Architecture.Llama && c.AttentionBias);
                    Norm(p + "post_attention_layernorm", false);
                    Linear(p + "mlp.gate_proj", f, d, c.MlpBias);
                    Linear(p + "mlp.up_proj", f, d, c.MlpBias);
                    Linear(p + "mlp.down_proj", d, f, c.MlpBias);
                }
                Norm("model.norm", false);
                if (!c.TieWordEmbeddings) list.Add(new("lm_head.weight", [v, d], TensorRole.Head));
                break;
            case Architecture.Phi:
                list.Add(new("model.embed_tokens.weight", [v, d], TensorRole.Embedding));
                for (int i = 0; i < c.NumLayers; i++)
                {
                    Shape(i);
                    string p = $"model.layers.{i}.";
                    Norm(p + "input_layernorm", true);
                    Linear(p + "self_attn.q_proj", q, d, true);
                    Linear(p + "self_attn.k_proj", kv, d, true);
                    Linear(p + "self_attn.v_proj", kv, d, true);
                    Linear(p + "self_attn.dense", d, q, true);
                    Linear(p + "mlp.fc1", f, d, true);
                    Linear(p + "mlp.fc2", d, f, true);
                }
                Norm("model.final_layernorm", true);
                list.Add(new("lm_head.weight", [v, d], TensorRole.Head));
                list.Add(new("lm_head.bias", [v], TensorRole.Bias));
                break;
            case Architecture.QWen:
                list.Add(new("transformer.wte.weight", [v, d], TensorRole.Embedding));
                for (int i = 0; i < c.NumLayers; i++)
                {
                    Shape(i);
                    string p = $"transformer.h.{i}.";
                    Norm(p + "ln_1", false);
                    Linear(p + "attn.c_attn", 3 * q, d, true);
                    Linear(p + "attn.c_proj", d, q, false);
                    Norm(p + "ln_2", false);
                    Linear(p + "mlp.w1", f, d, false);
                    Linear(p + "mlp.w2", f, d, false);
                    Linear(p + "mlp.c_proj", d, f, false);
                }
                Norm("transformer.ln_f", false);
                list.Add(new("lm_head.weight", [v, d], TensorRole.Head));
                break;
        }
        return list;
    }

    /// <summary>Parameters as the checkpoint stores them (a tied embedding/head counted once).</summary>
    public static long ParameterCount(ModelConfig c) => For(c).Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));
}
