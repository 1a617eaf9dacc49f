namespace EdgeLlm.Pruning;

/// <summary>
/// What to keep: per source layer the key/value heads (whole GQA groups: a kept KV head keeps every
/// query head that reads it) and the MLP channels, in ascending order; the layers removed; and, for
/// FLAP, the values to add to each layer's attention-output and MLP-output biases.
/// </summary>
public sealed record PruningPlan
{
    public required PruningMethod Method { get; init; }
    public required double Ratio { get; init; }
    /// <summary>Uniform (every layer the same widths) unless FLAP's global allocation was asked for.</summary>
    public PruningStructure Structure { get; init; } = PruningStructure.Uniform;
    /// <summary>Per source layer: kept KV head indices (all of them when heads are not pruned).</summary>
    public required int[][] KeptKvHeads { get; init; }
    /// <summary>Per source layer: kept MLP channel indices.</summary>
    public required int[][] KeptChannels { get; init; }
    /// <summary>Source layer indices removed entirely, ascending.</summary>
    public int[] RemovedLayers { get; init; } = [];
    /// <summary>Per source layer, FLAP's bias compensation for the attention output projection (hidden size), or null.</summary>
    public float[]?[]? AttentionBiasCompensation { get; init; }
    /// <summary>Per source layer, FLAP's bias compensation for the MLP output projection (hidden size), or null.</summary>
    public float[]?[]? MlpBiasCompensation { get; init; }
    /// <summary>Per source layer: the importance of each KV group and MLP channel, or each layer's Block Influence.</summary>
    public double[][]? HeadScores { get; init; }
    public double[][]? ChannelScores { get; init; }
    public double[]? LayerScores { get; init; }
    /// <summary>Honest remarks for pruning.json (what was changed in config.json, what a stock loader needs).</summary>
    public List<string> Notes { get; init; } = [];
}
