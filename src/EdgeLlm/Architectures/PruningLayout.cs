using EdgeLlm.Checkpoints;

namespace EdgeLlm.Architectures;

/// <summary>
/// How structured pruning slices one architecture's decoder block. Modules are named relative to
/// <see cref="LayerPrefix"/><c>N.</c>. Removing KV group g removes rows of <see cref="Q"/> (its query heads'
/// g·groups·headDim … rows), rows g·headDim … of <see cref="K"/> and <see cref="V"/>, and the same columns of
/// <see cref="Out"/> as of Q's rows; removing MLP channel j removes row j of each <see cref="MlpRows"/> module and
/// column j of <see cref="MlpDown"/>; removing a layer drops every tensor under its prefix and renumbers the rest.
/// </summary>
/// <param name="CanPruneHeads">The stock loader accepts fewer heads (otherwise only MLP channels and layers are pruned).</param>
/// <param name="HasOutputBiases">The attention-output and MLP-down projections already carry biases.</param>
/// <param name="CanStoreOutputBiases">FLAP's bias compensation can be stored (existing biases, or a config switch that adds them).</param>
/// <param name="BiasSwitches">
/// Adding the output biases takes config switches (<c>attention_bias</c>, <c>mlp_bias</c>) that also give q/k/v and gate/up
/// biases, which are then written as zeros.
/// </param>
public sealed record PruningLayout(string LayerPrefix, string Q, string K, string V, string Out, IReadOnlyList<string> MlpRows, string MlpDown,
    bool CanPruneHeads, bool HasOutputBiases, bool CanStoreOutputBiases, bool BiasSwitches = false)
{
    /// <summary>The checkpoint name of <paramref name="module"/>'s <paramref name="kind"/> tensor in layer <paramref name="layer"/>.</summary>
    public string Tensor(int layer, string module, string kind = "weight") => $"{LayerPrefix}{layer}.{module}.{kind}";

    /// <summary>Stored parameters of one KV group (its q, k, v rows and o columns) and of one MLP channel, biases left out as FLAP does.</summary>
    public (long Group, long Channel) StructureParameters(ModelConfig c) =>
        ((long)(2 * (c.NumHeads / c.NumKvHeads) + 2) * c.HeadDim * c.HiddenSize, (long)(MlpRows.Count + 1) * c.HiddenSize);
}
