using EdgeLlm.Checkpoints;
using EdgeLlm.Profiling;

namespace EdgeLlm.Pruning;

/// <summary>A target the pruning ratio is derived from, instead of giving the ratio itself.</summary>
public abstract record PruningBudget
{
    /// <summary>At most this many stored parameters after pruning.</summary>
    public sealed record Parameters(long Max) : PruningBudget;

    /// <summary>At most this many bytes of weights when stored as <paramref name="DType"/>.</summary>
    public sealed record Bytes(long Max, DType DType) : PruningBudget;

    /// <summary>The predicted inference memory (weights + KV cache of <paramref name="Context"/> tokens + activations + runtime) fits the device.</summary>
    public sealed record FitsDevice(DeviceProfile Device, int Context, RuntimeProfile Runtime, DType WeightDType) : PruningBudget;
}

/// <summary>The shape a method leaves at a ratio, and the smallest ratio that meets a budget.</summary>
public static class PruningShape
{
    /// <summary>KV groups and MLP channels kept per layer, and layers removed, as <see cref="StructuredPruner"/> rounds them.</summary>
    public static (int KeptKvHeads, int KeptChannels, int RemovedLayers) Counts(ModelConfig c, PruningMethod method, double ratio)
    {
        if (method == PruningMethod.ShortGpt)
            return (c.NumKvHeads, c.IntermediateSize, (int)Math.Round(ratio * c.NumLayers, MidpointRounding.AwayFromZero));
        bool heads = BlockNames.For(c).CanPruneHeads;
        int keepKv = heads ? LoadableKvGroups(c, RatioKvGroups(c, ratio)) : c.NumKvHeads;
        int keepChannels = Math.Max(1, (int)Math.Round((1 - ratio) * c.IntermediateSize, MidpointRounding.AwayFromZero));
        return (keepKv, keepChannels, 0);
    }

    /// <summary>The KV groups a ratio keeps before <see cref="LoadableKvGroups"/> moves the count (at least one).</summary>
    internal static int RatioKvGroups(ModelConfig c, double ratio) =>
        Math.Max(1, (int)Math.Round((1 - ratio) * c.NumKvHeads, MidpointRounding.AwayFromZero));

    /// <summary>
    /// transformers 5 refuses a <c>LlamaConfig</c> whose hidden_size is not a multiple of num_attention_heads
    /// (<c>LlamaConfig.validate_architecture</c>, explicit head_dim or not), so a uniform Llama keeps the count of
    /// KV groups nearest <paramref name="wanted"/> that it accepts, the larger on a tie. Llama-3-8B (4096 wide,
    /// 8 groups of 4 heads) can keep 1, 2, 4 or 8 groups. Other architectures keep <paramref name="wanted"/>.
    /// </summary>
    public static int LoadableKvGroups(ModelConfig c, int wanted)
    {
        if (c.Architecture != Architecture.Llama) return wanted;
        int headsPerGroup = c.NumHeads / c.NumKvHeads;
        return Enumerable.Range(1, c.NumKvHeads)
            .Where(g => c.HiddenSize % (g * headsPerGroup) == 0)
            .OrderBy(g => Math.Abs(g - wanted)).ThenByDescending(g => g)
            .First();
    }

    /// <summary>The config the pruned checkpoint will have (FLAP with bias compensation adds Llama's optional biases).</summary>
    public static ModelConfig Config(ModelConfig c, PruningMethod method, double ratio, bool biasCompensation = true)
    {
        var (kv, channels, removed) = Counts(c, method, ratio);
        int groups = c.NumHeads / c.NumKvHeads;
        bool flapBiases = method == PruningMethod.Flap && biasCompensation && c.Architecture == Architecture.Llama;
        return c with
        {
            NumLayers = c.NumLayers - removed, NumKvHeads = kv, NumHeads = kv * groups, IntermediateSize = channels,
            AttentionBias = c.AttentionBias || flapBiases, MlpBias = c.MlpBias || flapBiases,
        };
    }

    public static long ParameterCount(ModelConfig c, PruningMethod method, double ratio, bool biasCompensation = true) =>
        TensorLayout.ParameterCount(Config(c, method, ratio, biasCompensation));

    /// <summary>The smallest ratio (in steps of 0.001) whose pruned model meets the budget; an error when none below 1 does.</summary>
    public static double RatioFor(ModelConfig c, PruningMethod method, PruningBudget budget, bool biasCompensation = true)
    {
        for (int step = 0; step < 1000; step++)
        {
            double ratio = step / 1000.0;
            if (method == PruningMethod.ShortGpt && Counts(c, method, ratio).RemovedLayers >= c.NumLayers) break;
            if (Meets(Config(c, method, ratio, biasCompensation), budget)) return ratio;
        }
        throw new ArgumentException($"No {method.Name()} ratio below 1 meets the budget {budget} for this {c.ArchitectureName}.");
    }

    private static bool Meets(ModelConfig pruned, PruningBudget budget) => budget switch
    {
        PruningBudget.Parameters p => TensorLayout.ParameterCount(pruned) <= p.Max,
        PruningBudget.Bytes b => TensorLayout.ParameterCount(pruned) * b.DType.SizeOf() <= b.Max,
        PruningBudget.FitsDevice f => MemoryModel.Fit(MemoryModel.Predict(pruned,
            new MemoryScenario { Context = f.Context, Runtime = f.Runtime, WeightDType = f.WeightDType }), f.Device).Fits,
        _ => throw new ArgumentException($"Unknown budget {budget}."),
    };
}
