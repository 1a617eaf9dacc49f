using EdgeLlm.Checkpoints;

namespace EdgeLlm.Architectures;

/// <summary>
/// <c>Qwen2ForCausalLM</c> (Qwen2-7B-Instruct): the <see cref="Llama"/> block with q/k/v biases always on and no
/// option for an o_proj or MLP-output bias.
/// </summary>
public sealed class Qwen2 : Llama
{
    public static new Qwen2 Instance { get; } = new();

    private Qwen2() { }

    public override string Name => "Qwen2ForCausalLM";

    public override string Summary => "Llama's block with q/k/v biases";

    internal override ModelConfig ReadConfig(ConfigReader r) => base.ReadConfig(r) with { AttentionBias = true };

    private protected override bool OutputBias(ModelConfig c) => false;

    /// <summary>Qwen2ForCausalLM has no option for an o_proj or MLP bias, so FLAP's compensation cannot be stored.</summary>
    public override PruningLayout Pruning(ModelConfig c) => base.Pruning(c) with { CanStoreOutputBiases = false, BiasSwitches = false };

    public override int LoadableKvGroups(ModelConfig c, int wanted) => wanted;
}
