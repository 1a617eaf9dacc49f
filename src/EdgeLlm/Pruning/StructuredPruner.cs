using EdgeLlm.Architectures;
using EdgeLlm.Calibration;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Pruning;

/// <summary>
/// Decides what to remove. Width methods (L1, Wanda-sp, FLAP) remove by default the same number of KV groups
/// and MLP channels from every layer — round(ratio × count), at least one group kept — so the result is an
/// ordinary config.json; FLAP with <see cref="PruningStructure.Global"/> lets the widths differ per layer.
/// ShortGPT removes round(ratio × layers) whole layers.
/// </summary>
public static class StructuredPruner
{
    public static PruningPlan Plan(Checkpoint checkpoint, PruningMethod method, double ratio, CalibrationStatistics? statistics = null,
        bool biasCompensation = true, IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default,
        PruningStructure structure = PruningStructure.Uniform)
    {
        var c = checkpoint.Config;
        var names = c.Architecture.Pruning(c);
        if (!(ratio >= 0 && ratio < 1)) throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "The pruning ratio must be in [0, 1).");
        PruningGuards.RequireUniformSource(checkpoint);
        if (structure == PruningStructure.Global && method != PruningMethod.Flap)
            throw new ArgumentException($"The global (per-layer) structure is FLAP's allocation; {method.Name()} prunes uniformly.");
        if (method == PruningMethod.Flap && biasCompensation) PruningGuards.RequireStorableBiases(c, names);
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

        int groups = c.NumHeads / c.NumKvHeads, hd = c.HeadDim;
        var plan = new PruningPlan
        {
            Method = method, Ratio = ratio, Structure = structure,
            KeptKvHeads = new int[c.NumLayers][], KeptChannels = new int[c.NumLayers][],
            HeadScores = new double[c.NumLayers][], ChannelScores = new double[c.NumLayers][],
            AttentionBiasCompensation = method == PruningMethod.Flap && biasCompensation ? new float[]?[c.NumLayers] : null,
            MlpBiasCompensation = method == PruningMethod.Flap && biasCompensation ? new float[]?[c.NumLayers] : null,
        };
        if (!names.CanPruneHeads) plan.Notes.Add($"{c.ArchitectureName}: attention heads are kept (its stock loader derives the head layout from hidden_size / num_attention_heads); only MLP channels are pruned.");
        // Query/output columns of KV group g: query heads g·groups … (g+1)·groups − 1, each hd columns wide.
        IEnumerable<int> GroupColumns(int g) => Enumerable.Range(g * groups * hd, groups * hd);
        var attentionColumnScores = new double[c.NumLayers][];

        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var o = checkpoint[names.Tensor(layer, names.Out)];
            var down = checkpoint[names.Tensor(layer, names.MlpDown)];
            double[] headScore = new double[c.NumKvHeads], channelScore = new double[c.IntermediateSize];
            switch (method)
            {
                case PruningMethod.L1:
                {
                    if (names.CanPruneHeads)
                    {
                        var q = WeightNorms.RowAbsSum(checkpoint[names.Tensor(layer, names.Q)]);
                        var k = WeightNorms.RowAbsSum(checkpoint[names.Tensor(layer, names.K)]);
                        var v = WeightNorms.RowAbsSum(checkpoint[names.Tensor(layer, names.V)]);
                        var oc = WeightNorms.ColumnSum(o, 1);
                        for (int g = 0; g < c.NumKvHeads; g++)
                            headScore[g] = GroupColumns(g).Sum(j => q[j] + oc[j]) + Enumerable.Range(g * hd, hd).Sum(j => k[j] + v[j]);
                    }
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
                    // FLAP's WIFV: fluctuation (variance) of input channel j × Σ_i W_ij². On the attention side the
                    // reference squares it per column; a head sums its columns (uniform) or averages their standardised values (global).
                    var a = statistics!.Attention[layer];
                    var oc = WeightNorms.ColumnSum(o, 2);
                    var columns = attentionColumnScores[layer] = Enumerable.Range(0, oc.Length).Select(j => Math.Pow(a.Variance(j) * oc[j], 2)).ToArray();
                    for (int g = 0; g < c.NumKvHeads; g++) headScore[g] = GroupColumns(g).Sum(j => columns[j]);
                    var m = statistics.Mlp[layer];
                    var dc = WeightNorms.ColumnSum(down, 2);
                    for (int j = 0; j < dc.Length; j++) channelScore[j] = m.Variance(j) * dc[j];
                    break;
                }
            }
            plan.HeadScores![layer] = headScore;
            plan.ChannelScores![layer] = channelScore;
            progress?.Report(new StageProgress("scoring", layer + 1, c.NumLayers, "layers"));
        }

        if (structure == PruningStructure.Global)
        {
            var (groupParameters, channelParameters) = names.StructureParameters(c);
            var allocation = FlapGlobalAllocation.Allocate(names.CanPruneHeads ? attentionColumnScores : null, groups * hd,
                plan.ChannelScores!, (double)groupParameters / channelParameters, ratio);
            for (int layer = 0; layer < c.NumLayers; layer++)
            {
                plan.KeptKvHeads[layer] = allocation.KeptGroups?[layer] ?? allHeads;
                plan.KeptChannels[layer] = allocation.KeptChannels[layer];
            }
            plan.Notes.Add($"FLAP global allocation (AL-AM): per-layer standardised scores, one threshold {allocation.Threshold:G6} across layers " +
                $"(a KV group weighs {groupParameters}/{channelParameters} MLP channels).");
            if (allocation.RescuedLayers.Length > 0)
                plan.Notes.Add($"Layers {string.Join(", ", allocation.RescuedLayers)} fell entirely below the threshold in heads or MLP channels and keep their best one (FLAP would remove the module).");
        }
        else
        {
            var (keepKv, keepChannels, _) = PruningShape.Counts(c, method, ratio);
            int asked = PruningShape.RatioKvGroups(c, ratio);
            if (names.CanPruneHeads && keepKv != asked)
                plan.Notes.Add($"The ratio asks to keep {asked} of {c.NumKvHeads} KV groups; {keepKv} are kept because transformers 5 loads a Llama " +
                    $"only when hidden_size ({c.HiddenSize}) is a multiple of num_attention_heads (LlamaConfig.validate_architecture).");
            for (int layer = 0; layer < c.NumLayers; layer++)
            {
                plan.KeptKvHeads[layer] = Keep(plan.HeadScores![layer], keepKv);
                plan.KeptChannels[layer] = Keep(plan.ChannelScores![layer], keepChannels);
            }
        }

        if (plan.AttentionBiasCompensation != null)
            for (int layer = 0; layer < c.NumLayers; layer++)
            {
                var removedColumns = allHeads.Except(plan.KeptKvHeads[layer]).SelectMany(GroupColumns).ToList();
                plan.AttentionBiasCompensation[layer] = removedColumns.Count == 0 ? null
                    : WeightNorms.RemovedContribution(checkpoint[names.Tensor(layer, names.Out)], removedColumns, statistics!.Attention[layer].Mean);
                var removedChannels = allChannels.Except(plan.KeptChannels[layer]).ToList();
                plan.MlpBiasCompensation![layer] = removedChannels.Count == 0 ? null
                    : WeightNorms.RemovedContribution(checkpoint[names.Tensor(layer, names.MlpDown)], removedChannels, statistics!.Mlp[layer].Mean);
            }
        return plan;
    }

    /// <summary>Indices of the <paramref name="count"/> highest scores, ascending; ties keep the lower index.</summary>
    internal static int[] Keep(double[] scores, int count) =>
        Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(count).Order().ToArray();
}
