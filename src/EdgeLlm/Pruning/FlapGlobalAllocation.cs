namespace EdgeLlm.Pruning;

/// <summary>What <see cref="FlapGlobalAllocation.Allocate"/> decided.</summary>
/// <param name="KeptGroups">Per layer, kept KV groups ascending; null when heads were not part of the allocation.</param>
/// <param name="KeptChannels">Per layer, kept MLP channels ascending.</param>
/// <param name="Threshold">The standardised score a structure had to exceed.</param>
/// <param name="GroupScores">Per layer, each group's standardised score (mean over its columns); null without heads.</param>
/// <param name="ChannelScores">Per layer, each channel's standardised score.</param>
/// <param name="RescuedLayers">Layers that lost every group or every channel at the threshold and keep their best one instead.</param>
public sealed record FlapAllocation(int[][]? KeptGroups, int[][] KeptChannels, double Threshold, double[][]? GroupScores,
    double[][] ChannelScores, int[] RescuedLayers);

/// <summary>
/// FLAP's global allocation (An et al., AAAI 2024, structure "AL-AM" in its repository): per layer, the attention
/// output columns' scores and the MLP channels' scores are each standardised (minus the layer's mean, over the
/// layer's sample standard deviation); a head's score is the mean of its columns' standardised scores. All heads
/// and channels of all layers are then sorted together, best first, each weighted by the parameters it carries
/// (FLAP: 512/3 for a Llama-7B head against 1 for a channel, i.e. 4·128·hidden against 3·hidden); the threshold is
/// the score where the running weight comes closest to (1 − ratio) of the total, and a structure is kept when its
/// score is strictly above it. FLAP would drop a module left with nothing; here such a layer keeps its best head
/// or channel, so every layer stays an ordinary block.
/// </summary>
public static class FlapGlobalAllocation
{
    /// <param name="attentionColumnScores">Per layer, the score of each attention-output column (heads side by side), or null to keep every head.</param>
    /// <param name="columnsPerGroup">Columns of one KV group (query heads per group × head_dim).</param>
    /// <param name="channelScores">Per layer, the score of each MLP channel.</param>
    /// <param name="groupWeight">Parameters of one KV group over parameters of one MLP channel.</param>
    public static FlapAllocation Allocate(double[][]? attentionColumnScores, int columnsPerGroup, double[][] channelScores, double groupWeight, double ratio)
    {
        if (!(ratio >= 0 && ratio < 1)) throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "The pruning ratio must be in [0, 1).");
        int layers = channelScores.Length;
        double[][]? groupScores = attentionColumnScores?.Select(columns =>
        {
            var z = Standardise(columns);
            return Enumerable.Range(0, z.Length / columnsPerGroup).Select(g => z.AsSpan(g * columnsPerGroup, columnsPerGroup).ToArray().Average()).ToArray();
        }).ToArray();
        var channelZ = channelScores.Select(Standardise).ToArray();

        var all = new List<(double Score, double Weight)>();
        if (groupScores != null) foreach (var layer in groupScores) all.AddRange(layer.Select(s => (s, groupWeight)));
        foreach (var layer in channelZ) all.AddRange(layer.Select(s => (s, 1.0)));
        var sorted = all.OrderByDescending(e => e.Score).ToList();
        double target = sorted.Sum(e => e.Weight) * (1 - ratio), running = 0, bestGap = double.PositiveInfinity, threshold = double.NaN;
        foreach (var (score, weight) in sorted)
        {
            running += weight;
            double gap = Math.Abs(running - target);
            if (gap < bestGap) { bestGap = gap; threshold = score; } // the first of equal gaps, as argmin does
        }

        var rescued = new SortedSet<int>();
        int[] Kept(double[] scores, int layer)
        {
            var kept = Enumerable.Range(0, scores.Length).Where(i => scores[i] > threshold).ToArray();
            if (kept.Length > 0) return kept;
            rescued.Add(layer);
            return [StructuredPruner.Keep(scores, 1)[0]];
        }
        var keptGroups = groupScores?.Select((s, l) => Kept(s, l)).ToArray();
        var keptChannels = channelZ.Select((s, l) => Kept(s, l)).ToArray();
        return new FlapAllocation(keptGroups, keptChannels, threshold, groupScores, channelZ, rescued.ToArray());
    }

    /// <summary>(x − mean) / sample standard deviation; all zeros when the values do not vary.</summary>
    public static double[] Standardise(double[] x)
    {
        if (x.Length < 2) return new double[x.Length];
        double mean = x.Average();
        double std = Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1));
        return std > 0 ? x.Select(v => (v - mean) / std).ToArray() : new double[x.Length];
    }
}
