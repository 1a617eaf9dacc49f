using System.Globalization;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;

namespace EdgeLlm.Calibration;

/// <summary>
/// What one calibration pass learns about a model, for every pruning method at once: per layer, the
/// input-channel statistics of the attention output projection and of the MLP down projection, and the
/// summed cosine similarity between each block's input and output hidden states (ShortGPT's Block
/// Influence). Saved as a safetensors file of float64 sums, so a pass can stop and resume.
/// </summary>
public sealed class CalibrationStatistics
{
    public const string FormatName = "edgellm-calibration-1";

    public CalibrationStatistics(int numLayers, int attentionWidth, int mlpWidth)
        : this(Enumerable.Repeat(attentionWidth, numLayers).ToArray(), Enumerable.Repeat(mlpWidth, numLayers).ToArray()) { }

    /// <summary>Statistics for layers of different widths (a non-uniform pruned model).</summary>
    public CalibrationStatistics(IReadOnlyList<int> attentionWidths, IReadOnlyList<int> mlpWidths)
    {
        Attention = attentionWidths.Select(w => new ChannelStatistics(w)).ToArray();
        Mlp = mlpWidths.Select(w => new ChannelStatistics(w)).ToArray();
        CosineSum = new double[attentionWidths.Count];
        CosineTokens = new long[attentionWidths.Count];
    }

    public static CalibrationStatistics For(ModelConfig c) => new(
        Enumerable.Range(0, c.NumLayers).Select(i => c.Layer(i).NumHeads * c.HeadDim).ToArray(),
        Enumerable.Range(0, c.NumLayers).Select(i => c.Layer(i).IntermediateSize).ToArray());

    public int NumLayers => CosineSum.Length;
    /// <summary>Per layer: statistics of the attention output (heads side by side), the input of o_proj.</summary>
    public IReadOnlyList<ChannelStatistics> Attention { get; private set; }
    /// <summary>Per layer: statistics of the MLP intermediate activations, the input of down_proj.</summary>
    public IReadOnlyList<ChannelStatistics> Mlp { get; private set; }
    public double[] CosineSum { get; }
    public long[] CosineTokens { get; }
    public int SamplesDone { get; set; }
    /// <summary>Identifies the model shape and the calibration samples; a resumed pass must match it.</summary>
    public string Fingerprint { get; set; } = "";

    /// <summary>ShortGPT's Block Influence: 1 − mean over tokens of cos(block input, block output).</summary>
    public double BlockInfluence(int layer) => 1 - CosineSum[layer] / Math.Max(1, CosineTokens[layer]);

    public void Save(string path)
    {
        var tensors = new List<TensorData>();
        for (int i = 0; i < NumLayers; i++)
        {
            Add(tensors, $"layers.{i}.attention_output.sum", Attention[i].Sum);
            Add(tensors, $"layers.{i}.attention_output.sum_sq", Attention[i].SumOfSquares);
            Add(tensors, $"layers.{i}.mlp_output.sum", Mlp[i].Sum);
            Add(tensors, $"layers.{i}.mlp_output.sum_sq", Mlp[i].SumOfSquares);
        }
        Add(tensors, "block_cosine.sum", CosineSum);
        tensors.Add(TensorData.FromInt64("block_cosine.tokens", [NumLayers], CosineTokens));
        tensors.Add(TensorData.FromInt64("attention_output.tokens", [NumLayers], Attention.Select(a => a.Tokens).ToArray()));
        tensors.Add(TensorData.FromInt64("mlp_output.tokens", [NumLayers], Mlp.Select(a => a.Tokens).ToArray()));
        SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["samples_done"] = SamplesDone.ToString(CultureInfo.InvariantCulture),
            ["fingerprint"] = Fingerprint,
        });
    }

    private static void Add(List<TensorData> tensors, string name, double[] values) =>
        tensors.Add(TensorData.FromBytes(name, [values.Length], DType.F64, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));

    public static CalibrationStatistics Load(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        if (!file.Metadata.TryGetValue("format", out var format) || format != FormatName)
            throw new FormatException($"{path}: not an EdgeLlm calibration file (metadata 'format' should be '{FormatName}').");
        double[] F64(string name)
        {
            if (!file.Contains(name)) throw new FormatException($"{path}: tensor '{name}' is missing.");
            var t = file[name];
            if (t.DType != DType.F64) throw new FormatException($"{path}: tensor '{name}' is {t.DType}, expected F64.");
            return t.AsSpan<double>().ToArray();
        }
        long[] I64(string name) => file.Contains(name) ? file[name].ToInt64Array() : throw new FormatException($"{path}: tensor '{name}' is missing.");
        var cosine = F64("block_cosine.sum");
        int layers = cosine.Length;
        var attnTokens = I64("attention_output.tokens");
        var mlpTokens = I64("mlp_output.tokens");
        var cosTokens = I64("block_cosine.tokens");
        if (attnTokens.Length != layers || mlpTokens.Length != layers || cosTokens.Length != layers)
            throw new FormatException($"{path}: token counts do not cover {layers} layers.");
        var result = new CalibrationStatistics(layers, 0, 0)
        {
            Attention = Enumerable.Range(0, layers).Select(i => new ChannelStatistics(
                F64($"layers.{i}.attention_output.sum"), F64($"layers.{i}.attention_output.sum_sq"), attnTokens[i])).ToArray(),
            Mlp = Enumerable.Range(0, layers).Select(i => new ChannelStatistics(
                F64($"layers.{i}.mlp_output.sum"), F64($"layers.{i}.mlp_output.sum_sq"), mlpTokens[i])).ToArray(),
            SamplesDone = int.TryParse(file.Metadata.GetValueOrDefault("samples_done"), CultureInfo.InvariantCulture, out var n) ? n
                : throw new FormatException($"{path}: metadata 'samples_done' is missing or not a number."),
            Fingerprint = file.Metadata.GetValueOrDefault("fingerprint") ?? "",
        };
        cosine.CopyTo(result.CosineSum, 0);
        cosTokens.CopyTo(result.CosineTokens, 0);
        return result;
    }

    /// <summary>Checks that these statistics were gathered on a model of this shape.</summary>
    public void EnsureMatches(ModelConfig c, string source)
    {
        for (int i = 0; i < Math.Max(NumLayers, c.NumLayers); i++)
            if (i >= NumLayers || i >= c.NumLayers || Attention[i].Width != c.Layer(i).NumHeads * c.HeadDim || Mlp[i].Width != c.Layer(i).IntermediateSize)
                throw new InvalidOperationException($"{source}: calibration statistics cover {NumLayers} layers, attention width {Attention[0].Width}, " +
                    $"MLP width {Mlp[0].Width}; the model has {c.NumLayers}, {c.Layer(0).NumHeads * c.HeadDim}, {c.Layer(0).IntermediateSize}" +
                    (i < Math.Min(NumLayers, c.NumLayers) && i > 0 ? $" (layer {i} differs)." : "."));
        if (SamplesDone == 0) throw new InvalidOperationException($"{source}: calibration statistics hold no samples.");
    }
}
