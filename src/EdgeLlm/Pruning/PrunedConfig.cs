using EdgeLlm.Architectures;
using System.Text.Json.Nodes;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Pruning;

/// <summary>The config.json of a pruned checkpoint: the source's document with only the pruned widths edited.</summary>
internal static class PrunedConfig
{
    public const string NonUniformWarning =
        "Per-layer shapes: config.json lists each layer's widths in '" + ModelConfig.LayerShapesField + "' and keeps the unpruned top-level sizes. " +
        "Stock transformers and MLC-LLM loaders do NOT read that field and will refuse the tensors; EdgeLlm loads it, and " +
        "tools/reference/check_pruned.py rebuilds the layers with these shapes to compare against transformers' forward.";

    /// <param name="keptLayers">Source indices of the layers kept, ascending.</param>
    /// <param name="shapes">Per kept layer, its widths.</param>
    /// <param name="perLayer">Write <see cref="ModelConfig.LayerShapesField"/> (widths differ); otherwise every layer has the first one's widths.</param>
    public static JsonObject Edit(ModelConfig c, PruningLayout names, int[] keptLayers, IReadOnlyList<LayerShape> shapes, bool perLayer)
    {
        var config = (JsonObject)c.Raw.DeepClone();
        config["num_hidden_layers"] = keptLayers.Length;
        if (config["layer_types"] is JsonArray types && types.Count == c.NumLayers)
            config["layer_types"] = new JsonArray(keptLayers.Select(i => types[i]?.DeepClone()).ToArray());
        int StoredMlp(int channels) => c.Architecture.ConfigIntermediateSize(channels);
        if (perLayer)
        {
            // Top-level sizes stay the unpruned ones, so a loader that ignores the field fails on the first tensor instead of guessing.
            if (names.CanPruneHeads) config["head_dim"] = c.HeadDim;
            config[ModelConfig.LayerShapesField] = new JsonArray(shapes.Select(s =>
            {
                var o = new JsonObject { ["num_attention_heads"] = s.NumHeads };
                if (c.Architecture.HasKvHeadsField) o["num_key_value_heads"] = s.NumKvHeads;
                o["intermediate_size"] = StoredMlp(s.IntermediateSize);
                return (JsonNode)o;
            }).ToArray());
        }
        else if (shapes.Count > 0)
        {
            config["intermediate_size"] = StoredMlp(shapes[0].IntermediateSize);
            if (names.CanPruneHeads)
            {
                config["num_attention_heads"] = shapes[0].NumHeads;
                config["num_key_value_heads"] = shapes[0].NumKvHeads;
                config["head_dim"] = c.HeadDim; // no longer hidden_size / num_attention_heads
            }
        }
        return config;
    }
}
