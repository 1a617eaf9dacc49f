using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLlm.Architectures;

namespace EdgeLlm.Checkpoints;

/// <summary>
/// Reads config.json fields with errors that name the file and the field. The architecture named in
/// <c>architectures</c> reads its own fields (<see cref="ModelArchitecture.ReadConfig"/>) through these helpers.
/// </summary>
internal sealed class ConfigReader(JsonObject raw, string path)
{
    /// <summary>The whole config.json document.</summary>
    public JsonObject Raw => raw;

    public ModelConfig Read()
    {
        var archName = raw["architectures"] is JsonArray { Count: > 0 } a && a[0] is { } first
            ? Convert<string>("architectures", first) : null;
        if (archName == null)
            throw Fail("field 'architectures' is missing");
        var arch = ArchitectureRegistry.Find(archName)
            ?? throw Fail($"architecture '{archName}' is not supported (supported: {string.Join(", ", ArchitectureRegistry.All.Select(x => x.Name))})");
        var config = arch.ReadConfig(this);
        return raw[ModelConfig.LayerShapesField] is { } shapes ? config with { LayerShapes = ReadLayerShapes(config, shapes) } : config;
    }

    /// <summary>
    /// <c>edgellm_layer_shapes</c>: one object per layer with num_attention_heads, num_key_value_heads and
    /// intermediate_size in the same convention as the top-level fields (QWen: both MLP branches).
    /// </summary>
    private LayerShape[] ReadLayerShapes(ModelConfig c, JsonNode node)
    {
        string field = ModelConfig.LayerShapesField;
        if (node is not JsonArray list) throw Fail($"field '{field}' should be an array of per-layer objects");
        if (list.Count != c.NumLayers) throw Fail($"field '{field}' has {list.Count} entries for {c.NumLayers} layers");
        var shapes = new LayerShape[list.Count];
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonObject o) throw Fail($"{field}[{i}] should be an object");
            int Get(string name, int? fallback = null)
            {
                int v = o[name] is { } n ? Convert<int>($"{field}[{i}].{name}", n) : fallback ?? throw Fail($"{field}[{i}].{name} is missing");
                return v > 0 ? v : throw Fail($"{field}[{i}].{name} must be positive, found {v}");
            }
            int heads = Get("num_attention_heads"), kv = c.Architecture.HasKvHeadsField ? Get("num_key_value_heads", heads) : heads;
            int mlp = Get("intermediate_size");
            if (heads % kv != 0) throw Fail($"{field}[{i}]: {heads} attention heads are not a multiple of {kv} key/value heads");
            if (heads / kv != c.NumHeads / c.NumKvHeads)
                throw Fail($"{field}[{i}]: {heads / kv} query heads per key/value head, the model has {c.NumHeads / c.NumKvHeads}");
            int channels = c.Architecture.ChannelsFromConfig(mlp);
            if (c.Architecture.ConfigIntermediateSize(channels) != mlp)
                throw Fail($"{field}[{i}].intermediate_size {mlp} is not a whole number of MLP channels for {c.ArchitectureName} (both MLP branches)");
            shapes[i] = new LayerShape(heads, kv, channels);
        }
        return shapes;
    }

    /// <summary>The fields every architecture shares; an architecture fills in the rest with <c>with</c>.</summary>
    public ModelConfig Common(ModelArchitecture arch) => new()
    {
        Architecture = arch,
        ArchitectureName = arch.Name,
        HiddenSize = 0, IntermediateSize = 0, NumLayers = Int("num_hidden_layers"), NumHeads = 0, NumKvHeads = 0,
        HeadDim = 0, VocabSize = Int("vocab_size"),
        MaxPositions = OptInt("max_position_embeddings") ?? OptInt("seq_length") ?? 2048,
        NormEps = 0, HiddenAct = "", Rope = new RopeConfig(10000, 0),
        BosTokenId = OptInt("bos_token_id"),
        EosTokenIds = raw["eos_token_id"] switch
        {
            JsonArray arr => arr.Select(x => x is null ? throw Fail("field 'eos_token_id' contains null")
                : Convert<int>("eos_token_id", x)).ToArray(),
            null => [],
            // A string (a token's text, say) would be dropped and generation would never stop.
            var other => [Convert<int>("eos_token_id", other)],
        },
        DeclaredDType = (OptString("torch_dtype") ?? OptString("dtype")) is { } d && d is "float32" or "float16" or "bfloat16"
            ? DTypes.ParseFloatName(d) : null,
        Raw = raw,
        SourcePath = path,
    };

    /// <summary>Newer transformers write <c>rope_parameters</c>; older configs keep <c>rope_theta</c> and <c>rope_scaling</c> at the top level.</summary>
    public RopeConfig ReadRope(int headDim, double partialFactor, double defaultTheta)
    {
        var parameters = ObjectOrNull("rope_parameters");
        var scaling = parameters ?? ObjectOrNull("rope_scaling");
        double theta = PositiveNumber("rope_theta", (parameters?["rope_theta"] is { } t ? Convert<double>("rope_parameters.rope_theta", t) : (double?)null)
            ?? OptDouble("rope_theta") ?? defaultTheta);
        int rotaryDim = (int)(headDim * partialFactor);
        string type = (scaling?["rope_type"] is { } rt ? Convert<string>("rope_type", rt) : null)
            ?? (scaling?["type"] is { } ty ? Convert<string>("type", ty) : null) ?? "default";
        switch (type)
        {
            case "default":
                return new RopeConfig(theta, rotaryDim);
            case "linear":
                return new RopeConfig(theta, rotaryDim, type, Factor: Num(scaling!, "factor"));
            case "llama3":
                var rope = new RopeConfig(theta, rotaryDim, type, Factor: Num(scaling!, "factor"),
                    LowFreqFactor: Num(scaling!, "low_freq_factor"), HighFreqFactor: Num(scaling!, "high_freq_factor"),
                    OriginalMaxPositions: (int)Num(scaling!, "original_max_position_embeddings"));
                // transformers divides by high_freq_factor − low_freq_factor.
                if (rope.HighFreqFactor <= rope.LowFreqFactor)
                    throw Fail($"rope scaling field 'high_freq_factor' ({rope.HighFreqFactor}) must exceed 'low_freq_factor' ({rope.LowFreqFactor})");
                return rope;
            default:
                throw Fail($"rope scaling type '{type}' is not supported (supported: default, linear, llama3)");
        }
    }

    /// <summary>Rope scaling numbers (factors, original context) are all divisors or multipliers of frequencies: zero or negative gives NaN.</summary>
    private double Num(JsonObject o, string name)
    {
        double v = o[name] is { } n ? Convert<double>(name, n) : throw Fail($"rope scaling field '{name}' is missing");
        return v > 0 && double.IsFinite(v) ? v : throw Fail($"rope scaling field '{name}' must be a positive number, found {v}");
    }

    public double PositiveNumber(string name, double v) =>
        v > 0 && double.IsFinite(v) ? v : throw Fail($"field '{name}' must be a positive number, found {v}");

    /// <summary>A norm epsilon below zero makes the variance plus eps negative for small inputs: NaN.</summary>
    public double Epsilon(string name)
    {
        double v = Double(name);
        return v >= 0 && double.IsFinite(v) ? v : throw Fail($"field '{name}' must be zero or positive, found {v}");
    }

    public int KvHeads(int heads)
    {
        int kv = OptInt("num_key_value_heads") ?? heads;
        return heads % kv == 0 ? kv : throw Fail($"{heads} attention heads are not a multiple of num_key_value_heads = {kv}");
    }

    public string Activation(string[] supported, string fallback, string archName)
    {
        var name = OptString("hidden_act") ?? fallback;
        return supported.Contains(name) ? name
            : throw Fail($"hidden_act '{name}' is not supported for {archName} (supported: {string.Join(", ", supported)})");
    }

    private JsonObject? ObjectOrNull(string name) => raw[name] switch
    {
        null => null,
        JsonObject o => o,
        var other => throw Fail($"field '{name}' should be an object, found {other.ToJsonString()}"),
    };

    public CheckpointFormatException Fail(string problem) => new(path, problem);

    private JsonNode Field(string name) => raw[name] ?? throw Fail($"field '{name}' is missing");

    /// <summary>Sizes and counts: a zero or negative one would only fail later, as a division by zero or an empty model.</summary>
    private static readonly HashSet<string> MustBePositive =
    [
        "hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "num_hidden_layers",
        "vocab_size", "head_dim", "kv_channels", "max_position_embeddings", "seq_length",
    ];

    public int Int(string name) => Positive(name, Convert<int>(name, Field(name)));
    public double Double(string name) => Convert<double>(name, Field(name));
    public int? OptInt(string name) => raw[name] is { } n ? Positive(name, Convert<int>(name, n)) : null;

    private int Positive(string name, int value) =>
        value <= 0 && MustBePositive.Contains(name) ? throw Fail($"field '{name}' must be positive, found {value}") : value;
    public double? OptDouble(string name) => raw[name] is { } n ? Convert<double>(name, n) : null;
    public bool? OptBool(string name) => raw[name] is { } n ? Convert<bool>(name, n) : null;
    public string? OptString(string name) => raw[name] is { } n ? Convert<string>(name, n) : null;

    public T Convert<T>(string name, JsonNode node)
    {
        try { return node.GetValue<T>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException)
        {
            throw Fail($"field '{name}' should be {typeof(T).Name.ToLowerInvariant()}, found {node.ToJsonString()}");
        }
    }
}
