using EdgeLlm.Checkpoints;

namespace EdgeLlm.Pruning;

/// <summary>
/// The tensor names of one architecture's decoder block that structured pruning slices, and what its stock
/// loader can take: fewer heads (<see cref="CanPruneHeads"/>), and biases on the output projections for FLAP's
/// compensation (<see cref="CanStoreOutputBiases"/>).
/// </summary>
internal sealed record BlockNames(string LayerPrefix, string Q, string K, string V, string Out, string[] MlpRows, string MlpDown,
    bool CanPruneHeads, bool HasOutputBiases, bool CanStoreOutputBiases)
{
    public static BlockNames For(ModelConfig c) => c.Architecture switch
    {
        // Llama: transformers' attention_bias / mlp_bias switches add the biases FLAP needs.
        Architecture.Llama => new("model.layers.", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.o_proj", ["mlp.gate_proj", "mlp.up_proj"], "mlp.down_proj", CanPruneHeads: true, HasOutputBiases: false, CanStoreOutputBiases: true),
        // Qwen2ForCausalLM has no option for an o_proj or MLP bias.
        Architecture.Qwen2 => new("model.layers.", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.o_proj", ["mlp.gate_proj", "mlp.up_proj"], "mlp.down_proj", CanPruneHeads: true, HasOutputBiases: false, CanStoreOutputBiases: false),
        // transformers' PhiAttention derives head_dim from hidden_size / num_attention_heads, so a Phi with fewer heads
        // would not load: only MLP channels and whole layers are pruned there.
        Architecture.Phi => new("model.layers.", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.dense", ["mlp.fc1"], "mlp.fc2", CanPruneHeads: false, HasOutputBiases: true, CanStoreOutputBiases: true),
        // Qwen-7B's modeling_qwen.py splits c_attn's output at hidden_size, takes head_dim = hidden_size / num_attention_heads
        // and builds c_proj as Linear(hidden_size, projection_size): with fewer heads none of these shapes hold, so heads are
        // kept (q/k/v are fused in c_attn and never sliced); c_proj has no bias unless no_bias is false, and the MLP never has one.
        Architecture.QWen => new("transformer.h.", "attn.c_attn", "attn.c_attn", "attn.c_attn",
            "attn.c_proj", ["mlp.w1", "mlp.w2"], "mlp.c_proj", CanPruneHeads: false, HasOutputBiases: false, CanStoreOutputBiases: false),
        _ => throw new NotSupportedException($"Structured pruning of {c.ArchitectureName} is not implemented (Llama, Qwen2, Phi and QWen are)."),
    };

    public string Tensor(int layer, string module, string kind = "weight") => $"{LayerPrefix}{layer}.{module}.{kind}";

    /// <summary>Stored parameters of one KV group (its q, k, v rows and o columns) and of one MLP channel, biases left out as FLAP does.</summary>
    public (long Group, long Channel) StructureParameters(ModelConfig c) =>
        ((long)(2 * (c.NumHeads / c.NumKvHeads) + 2) * c.HeadDim * c.HiddenSize, (long)(MlpRows.Length + 1) * c.HiddenSize);
}
