using EdgeLlm.Checkpoints;

namespace EdgeLlm.Architectures;

/// <summary>
/// <c>MistralForCausalLM</c>: the <see cref="Llama"/> block without any bias, and sliding-window attention — each token
/// attends to itself and the <c>sliding_window − 1</c> positions before it (transformers' sliding-window causal mask;
/// <c>sliding_window: null</c> attends to the whole prefix). The K/V cache still keeps every position.
/// </summary>
public sealed class Mistral : Llama
{
    public static new Mistral Instance { get; } = new();

    private Mistral() { }

    public override string Name => "MistralForCausalLM";

    public override string Summary => "Llama's block without biases, sliding-window attention";

    internal override ModelConfig ReadConfig(ConfigReader r) => base.ReadConfig(r) with
    {
        // MistralAttention and MistralMLP build every projection with bias=False whatever the config says.
        AttentionBias = false,
        MlpBias = false,
        SlidingWindow = r.OptInt("sliding_window") is int window
            ? window > 0 ? window : throw r.Fail($"field 'sliding_window' must be positive or null, found {window}")
            : 0,
    };

    private protected override int SlidingWindow(ModelConfig c) => c.SlidingWindow;

    /// <summary>Mistral has no bias switch, so FLAP's compensation cannot be stored; its head_dim field lets any head count load.</summary>
    public override PruningLayout Pruning(ModelConfig c) => base.Pruning(c) with { CanStoreOutputBiases = false, BiasSwitches = false };

    public override int LoadableKvGroups(ModelConfig c, int wanted) => wanted;
}
