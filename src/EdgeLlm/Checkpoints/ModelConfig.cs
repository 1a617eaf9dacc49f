using System.Text.Json.Nodes;
using EdgeLlm.Architectures;

namespace EdgeLlm.Checkpoints;

/// <summary>Rotary position embedding settings, from <c>rope_parameters</c> or the older top-level fields.</summary>
public sealed record RopeConfig(double Theta, int RotaryDim, string Type = "default", double Factor = 1.0,
    double LowFreqFactor = 1.0, double HighFreqFactor = 4.0, int OriginalMaxPositions = 8192);

/// <summary>One decoder layer's widths (query heads, key/value heads, MLP channels — QWen: per branch).</summary>
public sealed record LayerShape(int NumHeads, int NumKvHeads, int IntermediateSize);

/// <summary>
/// The fields of a Hugging Face <c>config.json</c> that the engine needs, normalised across
/// architectures. <see cref="Raw"/> keeps the whole document so that a pruned checkpoint can write
/// it back with only the changed fields edited.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>The family description (config mapping, tensors, pruning layout, forward pass); see <see cref="ArchitectureRegistry"/>.</summary>
    public required ModelArchitecture Architecture { get; init; }
    public required string ArchitectureName { get; init; }
    public required int HiddenSize { get; init; }
    /// <summary>Width of the MLP's hidden layer (for QWen: the per-branch width, half of its config's intermediate_size).</summary>
    public required int IntermediateSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int VocabSize { get; init; }
    public required int MaxPositions { get; init; }
    public required double NormEps { get; init; }
    public required string HiddenAct { get; init; }
    public required RopeConfig Rope { get; init; }
    public bool TieWordEmbeddings { get; init; }
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    public int? BosTokenId { get; init; }
    public int[] EosTokenIds { get; init; } = [];
    /// <summary>QWen: training context; dynamic NTK and log-n attention scaling only act beyond it.</summary>
    public int SeqLength { get; init; }
    public bool UseDynamicNtk { get; init; }
    public bool UseLognAttn { get; init; }
    /// <summary>Sliding-window attention: a token attends to itself and the <c>SlidingWindow − 1</c> positions before it; 0: the whole prefix.</summary>
    public int SlidingWindow { get; init; }
    /// <summary>The storage dtype the config declares (<c>torch_dtype</c> / <c>dtype</c>), if any.</summary>
    public DType? DeclaredDType { get; init; }
    /// <summary>
    /// Per-layer widths of a non-uniform pruned checkpoint (config field <see cref="LayerShapesField"/>), or null when
    /// every layer has the top-level widths. Stock transformers / MLC-LLM loaders do not read this field.
    /// </summary>
    public IReadOnlyList<LayerShape>? LayerShapes { get; init; }
    public JsonObject Raw { get; init; } = new();
    public string SourcePath { get; init; } = "config.json";

    /// <summary>The config.json field EdgeLlm writes for per-layer shapes (only when asked for non-uniform pruning).</summary>
    public const string LayerShapesField = "edgellm_layer_shapes";

    /// <summary>The widths of decoder layer <paramref name="layer"/>.</summary>
    public LayerShape Layer(int layer) => LayerShapes?[layer] ?? new(NumHeads, NumKvHeads, IntermediateSize);

    public bool HasUniformLayers => LayerShapes == null;

    /// <summary>Σ over layers of key/value heads × head_dim: the KV cache's floats per position for keys (and again for values).</summary>
    public long KvWidthAllLayers => Enumerable.Range(0, NumLayers).Sum(i => (long)Layer(i).NumKvHeads * HeadDim);

    public static ModelConfig Load(string path)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (System.Text.Json.JsonException e) { throw new CheckpointFormatException(path, $"not valid JSON: {e.Message}", e); }
        if (node is not JsonObject obj) throw new CheckpointFormatException(path, "not a JSON object");
        return Parse(obj, path);
    }

    public static ModelConfig Parse(JsonObject raw, string path = "config.json") => new ConfigReader(raw, path).Read();
}
