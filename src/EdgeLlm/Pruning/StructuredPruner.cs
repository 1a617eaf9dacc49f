using EdgeLlm.Calibration;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Pruning;

/// <summary>
/// Decides what to remove. Width methods (L1, Wanda-sp, FLAP) remove the same number of KV groups and
/// MLP channels from every layer — round(ratio × count), at least one group kept — so the result is an
/// ordinary config.json; ShortGPT removes round(ratio × layers) whole layers.
/// </summary>
public static class StructuredPruner
{
    public static PruningPlan Plan(Checkpoint checkpoint, PruningMethod method, double ratio, CalibrationStatistics? statistics = null,
        bool biasCompensation = true, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        var c = checkpoint.Config;
        var names = BlockNames.For(c);
        if (!(ratio >= 0 && ratio < 1)) throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "The pruning ratio must be in [0, 1).");
        if (method.NeedsCalibration())
        {
            if (statistics == null) throw new ArgumentException($"{method.Name()} needs calibration statistics (run 'edgellm calibrate' or pass --data).");
            statistics.EnsureMatches(c, "calibration statistics");
        }
        var allHeads = Enumerable.Range(0, c.NumKvHeads).ToArray();
        var allChannels = Enumerable.Range(0, c.IntermediateSize).ToArray();

        if (method == PruningMethod.ShortGpt)
        {
            int remove = PruningShape.Counts(c, method, ratio).RemovedLayers;
            if (remove >= c.NumLayers) throw new ArgumentException($"Ratio {ratio} would remove all {c.NumLayers} layers.");
            var influence = Enumerable.Range(0, c.NumLayers).Select(statistics!.BlockInfluence).ToArray();
            var removed = Enumerable.Range(0, c.NumLayers).OrderBy(i => influence[i]).ThenBy(i => i).Take(remove).Order().ToArray();
            return new PruningPlan
            {
                Method = method, Ratio = ratio, RemovedLayers = removed, LayerScores = influence,
                KeptKvHeads = Enumerable.Repeat(allHeads, c.NumLayers).ToArray(),
                KeptChannels = Enumerable.Repeat(allChannels, c.NumLayers).ToArray(),
            };
        }

        var (keepKv, keepChannels, _) = PruningShape.Counts(c, method, ratio);
        int groups = c.NumHeads / c.NumKvHeads, hd = c.HeadDim;
        var plan = new PruningPlan
        {
            Method = method, Ratio = ratio,
            KeptKvHeads = new int[c.NumLayers][], KeptChannels = new int[c.NumLayers][],
            HeadScores = new double[c.NumLayers][], ChannelScores = new double[c.NumLayers][],
            AttentionBiasCompensation = method == PruningMethod.Flap && biasCompensation ? new float[]?[c.NumLayers] : null,
            MlpBiasCompensation = method == PruningMethod.Flap && biasCompensation ? new float[]?[c.NumLayers] : null,
        };
        if (!names.CanPruneHeads) plan.Notes.Add($"{c.ArchitectureName}: attention heads are kept (stock loaders derive head_dim from hidden_size / num_attention_heads); only MLP channels are pruned.");

        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report($"scoring layer {layer + 1}/{c.NumLayers}");
            var o = checkpoint[names.Tensor(layer, names.Out)];
            var down = checkpoint[names.Tensor(layer, names.MlpDown)];
            double[] headScore = new double[c.NumKvHeads], channelScore = new double[c.IntermediateSize];
            // Query/output columns of KV group g: query heads g·groups … (g+1)·groups − 1, each hd columns wide.
            IEnumerable<int> GroupColumns(int g) => Enumerable.Range(g * groups * hd, groups * hd);
            switch (method)
            {
                case PruningMethod.L1:
                {
                    var q = WeightNorms.RowAbsSum(checkpoint[names.Tensor(layer, names.Q)]);
                    var k = WeightNorms.RowAbsSum(checkpoint[names.Tensor(layer, names.K)]);
                    var v = WeightNorms.RowAbsSum(checkpoint[names.Tensor(layer, names.V)]);
                    var oc = WeightNorms.ColumnSum(o, 1);
                    for (int g = 0; g < c.NumKvHeads; g++)
                        headScore[g] = GroupColumns(g).Sum(j => q[j] + oc[j]) + Enumerable.Range(g * hd, hd).Sum(j => k[j] + v[j]);
                    var dc = WeightNorms.ColumnSum(down, 1);
                    Array.Copy(dc, channelScore, dc.Length);
                    foreach (var m in names.MlpRows)
                    {
                        var r = WeightNorms.RowAbsSum(checkpoint[names.Tensor(layer, m)]);
                        for (int j = 0; j < r.Length; j++) channelScore[j] += r[j];
                    }
                    break;
                }
                case PruningMethod.WandaSp:
                {
                    var a = statistics!.Attention[layer];
                    var oc = WeightNorms.ColumnSum(o, 1);
                    for (int g = 0; g < c.NumKvHeads; g++) headScore[g] = GroupColumns(g).Sum(j => oc[j] * a.Norm(j));
                    var m = statistics.Mlp[layer];
                    var dc = WeightNorms.ColumnSum(down, 1);
                    for (int j = 0; j < dc.Length; j++) channelScore[j] = dc[j] * m.Norm(j);
                    break;
                }
                case PruningMethod.Flap:
                {
                    // FLAP's WIFV: fluctuation (variance) of input channel j × Σ_i W_ij²; a head sums the squares of its columns' values.
                    var a = statistics!.Attention[layer];
                    var oc = WeightNorms.ColumnSum(o, 2);
                    for (int g = 0; g < c.NumKvHeads; g++) headScore[g] = GroupColumns(g).Sum(j => Math.Pow(a.Variance(j) * oc[j], 2));
                    var m = statistics.Mlp[layer];
                    var dc = WeightNorms.ColumnSum(down, 2);
                    for (int j = 0; j < dc.Length; j++) channelScore[j] = m.Variance(j) * dc[j];
                    break;
                }
            }
            plan.HeadScores![layer] = headScore;
            plan.ChannelScores![layer] = channelScore;
            plan.KeptKvHeads[layer] = Keep(headScore, keepKv);
            plan.KeptChannels[layer] = Keep(channelScore, keepChannels);
            if (plan.AttentionBiasCompensation != null)
            {
                var a = statistics!.Attention[layer];
                var removedColumns = allHeads.Except(plan.KeptKvHeads[layer]).SelectMany(GroupColumns).ToList();
                plan.AttentionBiasCompensation[layer] = removedColumns.Count == 0 ? null : WeightNorms.RemovedContribution(o, removedColumns, a.Mean);
                var m = statistics.Mlp[layer];
                var removedChannels = allChannels.Except(plan.KeptChannels[layer]).ToList();
                plan.MlpBiasCompensation![layer] = removedChannels.Count == 0 ? null : WeightNorms.RemovedContribution(down, removedChannels, m.Mean);
            }
        }
        return plan;
    }

    /// <summary>Indices of the <paramref name="count"/> highest scores, ascending; ties keep the lower index.</summary>
    internal static int[] Keep(double[] scores, int count) =>
        Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(count).Order().ToArray();
}
