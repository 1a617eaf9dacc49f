namespace EdgeLlm.Pruning;

/// <summary>The structured pruning criteria EdgeLlm implements (see docs/pruning.md for the sources).</summary>
public enum PruningMethod
{
    /// <summary>Magnitude only: a structure's importance is the L1 norm of all its weights. Needs no calibration.</summary>
    L1,
    /// <summary>Wanda's structured variant: Σ |W_ij|·‖X_j‖ over the output projection's columns of the structure.</summary>
    WandaSp,
    /// <summary>FLAP: input-feature variance × squared column norm, with the removed channels' mean output added to the bias.</summary>
    Flap,
    /// <summary>ShortGPT: removes whole decoder layers with the lowest Block Influence (1 − cos(input, output)).</summary>
    ShortGpt,
}

public static class PruningMethods
{
    public static PruningMethod Parse(string name) => name.ToLowerInvariant().Replace("_", "-") switch
    {
        "l1" or "magnitude" => PruningMethod.L1,
        "wanda-sp" or "wandasp" or "wanda" => PruningMethod.WandaSp,
        "flap" => PruningMethod.Flap,
        "shortgpt" or "short-gpt" => PruningMethod.ShortGpt,
        _ => throw new ArgumentException($"Unknown pruning method '{name}' (expected l1, wanda-sp, flap or shortgpt)."),
    };

    public static string Name(this PruningMethod m) => m switch
    {
        PruningMethod.L1 => "l1",
        PruningMethod.WandaSp => "wanda-sp",
        PruningMethod.Flap => "flap",
        _ => "shortgpt",
    };

    public static bool NeedsCalibration(this PruningMethod m) => m != PruningMethod.L1;
}
