using EdgeLlm.Architectures;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Pruning;

/// <summary>What <see cref="PrunedCheckpointWriter.Save"/> wrote.</summary>
/// <param name="KvHeads">KV heads per layer (the widest layer's when <paramref name="LayerShapes"/> is set).</param>
/// <param name="IntermediateSize">MLP channels per layer (the widest layer's when <paramref name="LayerShapes"/> is set).</param>
/// <param name="LayerShapes">Per kept layer, when the widths differ (FLAP global): such a folder loads in EdgeLlm, not in stock loaders.</param>
public sealed record PruningResult(string Directory, long ParametersBefore, long ParametersAfter, int Layers, int KvHeads, int IntermediateSize,
    IReadOnlyList<string> Files, IReadOnlyList<LayerShape>? LayerShapes = null)
{
    public bool UniformShapes => LayerShapes == null;
}

/// <summary>
/// Writes the pruned model as an ordinary Hugging Face folder in the source's dtype: sliced tensors are
/// streamed a row at a time from the memory-mapped source (16-bit values pass through float32 exactly),
/// remaining layers are renumbered, config.json is edited, and pruning.json records the plan. A plan whose
/// layers differ in width is written only when it asked for it (<see cref="PruningStructure.Global"/>): the
/// per-layer shapes then go into config.json's <see cref="ModelConfig.LayerShapesField"/>, which stock loaders ignore.
/// </summary>
public static class PrunedCheckpointWriter
{
    private static readonly string[] SideFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "qwen.tiktoken", "vocab.json", "merges.txt",
         // Qwen-7B's config.json auto_map points at its own code: without these files transformers cannot build QWenLMHeadModel.
         "configuration_qwen.py", "modeling_qwen.py", "tokenization_qwen.py", "qwen_generation_utils.py", "cpp_kernels.py"];

    public static PruningResult Save(Checkpoint source, PruningPlan plan, string directory, string? calibrationNote = null,
        long maxShardBytes = CheckpointWriter.DefaultMaxShardBytes, IProgress<StageProgress>? progress = null)
    {
        var c = source.Config;
        var names = c.Architecture.Pruning(c);
        var outFull = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var sourceFull = Path.TrimEndingDirectorySeparator(Path.GetFullPath(source.Directory));
        if (outFull == sourceFull || sourceFull.StartsWith(outFull + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"{directory}: the pruned model must go to another folder than its source (the output folder is replaced as a whole).");
        PruningGuards.RequireUniformSource(source);
        int groups = c.NumHeads / c.NumKvHeads, hd = c.HeadDim;
        var layerMap = new Dictionary<int, int>();
        for (int i = 0, next = 0; i < c.NumLayers; i++) if (!plan.RemovedLayers.Contains(i)) layerMap[i] = next++;
        var keptLayers = layerMap.Keys.Order().ToArray();
        var shapes = keptLayers.Select(i => new LayerShape(plan.KeptKvHeads[i].Length * groups, plan.KeptKvHeads[i].Length, plan.KeptChannels[i].Length)).ToArray();
        bool uniform = shapes.Distinct().Count() <= 1;
        if (!uniform && plan.Structure != PruningStructure.Global)
            throw new InvalidOperationException("The plan keeps different widths in different layers but did not ask for per-layer shapes (PruningStructure.Global); " +
                "the default output must stay an ordinary uniform checkpoint.");
        int keptKv = shapes.Length == 0 ? c.NumKvHeads : shapes.Max(s => s.NumKvHeads);
        int keptChannels = shapes.Length == 0 ? c.IntermediateSize : shapes.Max(s => s.IntermediateSize);

        bool attentionBias = plan.AttentionBiasCompensation?.Any(b => b != null) == true;
        bool mlpBias = plan.MlpBiasCompensation?.Any(b => b != null) == true;
        if (attentionBias || mlpBias) PruningGuards.RequireStorableBiases(c, names);
        // Llama: transformers' attention_bias adds biases to q, k, v and o; mlp_bias to gate, up and down. Zero biases fill the ones FLAP does not need.
        bool addAttentionBiases = attentionBias && names.BiasSwitches && !names.HasOutputBiases && !c.AttentionBias;
        bool addMlpBiases = mlpBias && names.BiasSwitches && !names.HasOutputBiases && !c.MlpBias;

        var tensors = new List<TensorData>();
        foreach (var (name, view) in source.Tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (!TryParseLayer(name, names.LayerPrefix, out int layer, out string rest)) { tensors.Add(TensorData.FromView(view)); continue; }
            if (!layerMap.TryGetValue(layer, out int newLayer)) continue;
            string newName = $"{names.LayerPrefix}{newLayer}.{rest}";
            var kv = plan.KeptKvHeads[layer];
            var qRows = kv.SelectMany(g => Enumerable.Range(g * groups * hd, groups * hd)).ToArray();
            var kvRows = kv.SelectMany(g => Enumerable.Range(g * hd, hd)).ToArray();
            var channels = plan.KeptChannels[layer];
            string module = rest[..rest.LastIndexOf('.')], kind = rest[(rest.LastIndexOf('.') + 1)..];
            int[]? rows = null, cols = null;
            if (!names.CanPruneHeads && (module == names.Q || module == names.K || module == names.V)) { } // heads kept whole
            else if (module == names.Q) rows = qRows;
            else if (module == names.K || module == names.V) rows = kvRows;
            else if (module == names.Out && kind == "weight") cols = qRows;
            else if (names.MlpRows.Contains(module)) rows = channels;
            else if (module == names.MlpDown && kind == "weight") cols = channels;

            float[]? compensation = module == names.Out && kind == "bias" ? plan.AttentionBiasCompensation?[layer]
                : module == names.MlpDown && kind == "bias" ? plan.MlpBiasCompensation?[layer] : null;
            if (compensation != null)
            {
                var values = view.ToFloatArray();
                for (int i = 0; i < values.Length; i++) values[i] += compensation[i];
                tensors.Add(TensorData.FromFloats(newName, view.Shape, values, view.DType));
            }
            else tensors.Add(rows == null && cols == null ? TensorData.FromView(view, name: newName) : Slice(view, newName, rows, cols));
        }
        var dtype = source.DType;
        foreach (var (layer, newLayer) in layerMap)
        {
            string P(string module) => $"{names.LayerPrefix}{newLayer}.{module}.bias";
            int layerKv = plan.KeptKvHeads[layer].Length, layerChannels = plan.KeptChannels[layer].Length;
            int qWidth = layerKv * groups * hd, kvWidth = layerKv * hd;
            if (addAttentionBiases)
            {
                tensors.Add(TensorData.FromFloats(P(names.Q), [qWidth], new float[qWidth], dtype));
                tensors.Add(TensorData.FromFloats(P(names.K), [kvWidth], new float[kvWidth], dtype));
                tensors.Add(TensorData.FromFloats(P(names.V), [kvWidth], new float[kvWidth], dtype));
                tensors.Add(TensorData.FromFloats(P(names.Out), [c.HiddenSize], plan.AttentionBiasCompensation![layer] ?? new float[c.HiddenSize], dtype));
            }
            if (addMlpBiases)
            {
                foreach (var m in names.MlpRows) tensors.Add(TensorData.FromFloats(P(m), [layerChannels], new float[layerChannels], dtype));
                tensors.Add(TensorData.FromFloats(P(names.MlpDown), [c.HiddenSize], plan.MlpBiasCompensation![layer] ?? new float[c.HiddenSize], dtype));
            }
        }

        var config = PrunedConfig.Edit(c, names, keptLayers, shapes, perLayer: !uniform);
        var notes = new List<string>(plan.Notes);
        if (!uniform) notes.Add(PrunedConfig.NonUniformWarning);
        if (addAttentionBiases)
        {
            config["attention_bias"] = true;
            notes.Add("FLAP bias compensation: config attention_bias set to true; q/k/v biases are zeros, o_proj.bias holds the compensation (transformers LlamaAttention gives q/k/v/o a bias when attention_bias is true; check with tools/reference/check_pruned.py).");
        }
        if (addMlpBiases)
        {
            config["mlp_bias"] = true;
            notes.Add("FLAP bias compensation: config mlp_bias set to true; gate/up biases are zeros, down_proj.bias holds the compensation (transformers LlamaMLP gives gate/up/down a bias when mlp_bias is true; check with tools/reference/check_pruned.py).");
        }
        if ((attentionBias || mlpBias) && names.HasOutputBiases) notes.Add("FLAP bias compensation added to the existing output-projection biases.");

        // The whole folder is written under a temporary sibling name and renamed into place (AtomicDirectory):
        // a killed run leaves the earlier folder as it was, never new weights beside an old pruning.json.
        return AtomicDirectory.Write(directory, staging =>
        {
            var files = CheckpointWriter.Save(staging, config, tensors, maxShardBytes, progress).ToList();
            foreach (var side in SideFiles)
            {
                var from = Path.Combine(source.Directory, side);
                if (!File.Exists(from)) continue;
                var to = Path.Combine(staging, side);
                AtomicFile.Write(to, fs => { using var input = File.OpenRead(from); input.CopyTo(fs); });
                files.Add(to);
            }
            long before = source.ParameterCount, after = tensors.Sum(t => t.ByteLength / t.DType.SizeOf());
            var report = new JsonObject
            {
                ["method"] = plan.Method.Name(),
                ["ratio"] = plan.Ratio,
                ["source"] = source.Directory,
                ["calibration"] = calibrationNote,
                ["parameters_before"] = before,
                ["parameters_after"] = after,
                ["num_hidden_layers"] = layerMap.Count,
                ["num_key_value_heads"] = uniform ? keptKv : null,
                ["intermediate_size"] = uniform ? keptChannels : null,
                ["structure"] = plan.Structure.Name(),
                ["removed_layers"] = new JsonArray(plan.RemovedLayers.Select(i => (JsonNode)i).ToArray()),
                ["kept_kv_heads"] = new JsonArray(layerMap.Keys.Order().Select(i => (JsonNode)new JsonArray(plan.KeptKvHeads[i].Select(h => (JsonNode)h).ToArray())).ToArray()),
                ["kept_channels"] = new JsonArray(layerMap.Keys.Order().Select(i => (JsonNode)new JsonArray(plan.KeptChannels[i].Select(h => (JsonNode)h).ToArray())).ToArray()),
                ["layer_scores"] = plan.LayerScores == null ? null : new JsonArray(plan.LayerScores.Select(s => (JsonNode)s).ToArray()),
                ["uniform_shapes"] = uniform,
                ["layer_shapes"] = uniform ? null : new JsonArray(shapes.Select(s => (JsonNode)new JsonObject
                {
                    ["num_attention_heads"] = s.NumHeads, ["num_key_value_heads"] = s.NumKvHeads, ["intermediate_size"] = s.IntermediateSize,
                }).ToArray()),
                ["notes"] = new JsonArray(notes.Select(n => (JsonNode)n).ToArray()),
            };
            var reportPath = Path.Combine(staging, "pruning.json");
            AtomicFile.WriteAllText(reportPath, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            files.Add(reportPath);
            return new PruningResult(directory, before, after, layerMap.Count, keptKv, keptChannels,
                files.Select(f => AtomicDirectory.Final(staging, directory, f)).ToList(), uniform ? null : shapes);
        });
    }

    private static bool TryParseLayer(string name, string prefix, out int layer, out string rest)
    {
        layer = -1; rest = "";
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return false;
        int dot = name.IndexOf('.', prefix.Length);
        if (dot < 0 || !int.TryParse(name.AsSpan(prefix.Length, dot - prefix.Length), out layer)) return false;
        rest = name[(dot + 1)..];
        return true;
    }

    /// <summary>Selected rows and/or columns of a 1-D or 2-D tensor, streamed in its own dtype.</summary>
    internal static TensorData Slice(TensorView view, string name, int[]? rows, int[]? cols)
    {
        if (view.Rank == 1)
        {
            var all = view.ToFloatArray();
            var picked = (rows ?? cols)!.Select(i => all[i]).ToArray();
            return TensorData.FromFloats(name, [picked.Length], picked, view.DType);
        }
        int outRows = rows?.Length ?? view.Rows, outCols = cols?.Length ?? view.RowLength;
        var source = new float[view.RowLength];
        int cachedRow = -1;
        return TensorData.Generate(name, [outRows, outCols], view.DType, (start, span) =>
        {
            for (int e = 0; e < span.Length; e++)
            {
                long index = start + e;
                int r = (int)(index / outCols), col = (int)(index % outCols);
                int sr = rows?[r] ?? r;
                if (sr != cachedRow) { view.RowToFloat(sr, source); cachedRow = sr; }
                span[e] = source[cols?[col] ?? col];
            }
        });
    }
}
