namespace EdgeLlm.Pruning;

/// <summary>How the width methods spread the removal over layers.</summary>
public enum PruningStructure
{
    /// <summary>The same number of KV groups and MLP channels removed in every layer: an ordinary config.json (FLAP's UL-UM).</summary>
    Uniform,
    /// <summary>
    /// FLAP's adaptive structure (AL-AM): scores standardised per layer, one threshold across all layers and both module
    /// kinds chosen so the remaining parameters meet the ratio. Layers then differ in width, which only EdgeLlm
    /// (and tools/reference/check_pruned.py) can load: stock transformers / MLC-LLM loaders cannot.
    /// </summary>
    Global,
}

public static class PruningStructures
{
    public static PruningStructure Parse(string name) => name.ToLowerInvariant() switch
    {
        "uniform" or "ul-um" => PruningStructure.Uniform,
        "global" or "al-am" or "non-uniform" => PruningStructure.Global,
        _ => throw new ArgumentException($"Unknown pruning structure '{name}' (expected uniform or global)."),
    };

    public static string Name(this PruningStructure s) => s == PruningStructure.Uniform ? "uniform" : "global";
}
