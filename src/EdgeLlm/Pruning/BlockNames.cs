using EdgeLlm.Checkpoints;

namespace EdgeLlm.Pruning;

/// <summary>The tensor names of one architecture's decoder block that structured pruning slices.</summary>
internal sealed record BlockNames(string LayerPrefix, string Q, string K, string V, string Out, string[] MlpRows, string MlpDown,
    bool CanPruneHeads, bool HasOutputBiases)
{
    public static BlockNames For(ModelConfig c) => c.Architecture switch
    {
        Architecture.Llama or Architecture.Qwen2 => new("model.layers.", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.o_proj", ["mlp.gate_proj", "mlp.up_proj"], "mlp.down_proj", CanPruneHeads: true, HasOutputBiases: false),
        // transformers' PhiAttention derives head_dim from hidden_size / num_attention_heads, so a Phi with fewer heads
        // would not load: only MLP channels and whole layers are pruned there.
        Architecture.Phi => new("model.layers.", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
            "self_attn.dense", ["mlp.fc1"], "mlp.fc2", CanPruneHeads: false, HasOutputBiases: true),
        _ => throw new NotSupportedException($"Structured pruning of {c.ArchitectureName} is not implemented (Llama, Qwen2 and Phi are)."),
    };

    public string Tensor(int layer, string module, string kind = "weight") => $"{LayerPrefix}{layer}.{module}.{kind}";
}
