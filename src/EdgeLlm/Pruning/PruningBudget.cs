using EdgeLlm.Architectures;
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
        bool heads = c.Architecture.Pruning(c).CanPruneHeads;
        int keepKv = heads ? LoadableKvGroups(c, RatioKvGroups(c, ratio)) : c.NumKvHeads;
        int keepChannels = Math.Max(1, (int)Math.Round((1 - ratio) * c.IntermediateSize, MidpointRounding.AwayFromZero));
        return (keepKv, keepChannels, 0);
    }

    /// <summary>The KV groups a ratio keeps before <see cref="LoadableKvGroups"/> moves the count (at least one).</summary>
    internal static int RatioKvGroups(ModelConfig c, double ratio) =>
        Math.Max(1, (int)Math.Round((1 - ratio) * c.NumKvHeads, MidpointRounding.AwayFromZero));

    /// <summary>
    /// The KV groups a uniform pruned model keeps when <paramref name="wanted"/> are asked: the count nearest it that the
    /// architecture's stock loader accepts (<see cref="ModelArchitecture.LoadableKvGroups"/>; Llama's constraint is
    /// transformers 5's hidden_size % num_attention_heads == 0).
    /// </summary>
    public static int LoadableKvGroups(ModelConfig c, int wanted) => c.Architecture.LoadableKvGroups(c, wanted);

    /// <summary>The config the pruned checkpoint will have (FLAP with bias compensation adds Llama's optional biases).</summary>
    public static ModelConfig Config(ModelConfig c, PruningMethod method, double ratio, bool biasCompensation = true)
    {
        var (kv, channels, removed) = Counts(c, method, ratio);
        int groups = c.NumHeads / c.NumKvHeads;
        bool flapBiases = method == PruningMethod.Flap && biasCompensation && c.Architecture.Pruning(c).BiasSwitches;
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
