using EdgeLlm.Architectures;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Pruning;

/// <summary>The checks both the planner and the writer make, so that a plan built by hand is held to the planner's rules.</summary>
internal static class PruningGuards
{
    public static void RequireUniformSource(Checkpoint source)
    {
        if (!source.Config.HasUniformLayers)
            throw new NotSupportedException($"{source.Directory} already has per-layer shapes; prune the original model instead.");
    }

    public static void RequireStorableBiases(ModelConfig c, PruningLayout names)
    {
        if (!names.CanStoreOutputBiases)
            throw new NotSupportedException($"FLAP bias compensation cannot be stored for {c.ArchitectureName}: its stock loader has no bias on the " +
                $"attention output ({names.Out}) and MLP output ({names.MlpDown}) projections. Prune with --no-bias-compensation (biasCompensation: false).");
    }
}
