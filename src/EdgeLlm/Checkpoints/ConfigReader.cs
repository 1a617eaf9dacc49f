using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeLlm.Checkpoints;

/// <summary>Reads config.json fields with errors that name the file and the field.</summary>
internal sealed class ConfigReader(JsonObject raw, string path)
{
    private static readonly Dictionary<string, Architecture> Known = new()
    {
        ["LlamaForCausalLM"] = Architecture.Llama,
        ["Qwen2ForCausalLM"] = Architecture.Qwen2,
        ["PhiForCausalLM"] = Architecture.Phi,
        ["QWenLMHeadModel"] = Architecture.QWen,
    };

    public ModelConfig Read()
    {
        var archName = raw["architectures"] is JsonArray { Count: > 0 } a && a[0] is { } first
            ? Convert<string>("architectures", first) : null;
        if (archName == null)
            throw Fail("field 'architectures' is missing");
        if (!Known.TryGetValue(archName, out var arch))
            throw Fail($"architecture '{archName}' is not supported (supported: {string.Join(", ", Known.Keys)})");
        var config = arch switch
        {
            Architecture.QWen => ReadQWen(archName),
            Architecture.Phi => ReadPhi(archName),
            _ => ReadLlamaLike(arch, archName),
        };
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
            int heads = Get("num_attention_heads"), kv = c.Architecture == Architecture.QWen ? heads : Get("num_key_value_heads", heads);
            int mlp = Get("intermediate_size");
            if (heads % kv != 0) throw Fail($"{field}[{i}]: {heads} attention heads are not a multiple of {kv} key/value heads");
            if (heads / kv != c.NumHeads / c.NumKvHeads)
                throw Fail($"{field}[{i}]: {heads / kv} query heads per key/value head, the model has {c.NumHeads / c.NumKvHeads}");
            if (c.Architecture == Architecture.QWen && mlp % 2 != 0) throw Fail($"{field}[{i}].intermediate_size must be even for QWen (both MLP branches)");
            shapes[i] = new LayerShape(heads, kv, c.Architecture == Architecture.QWen ? mlp / 2 : mlp);
        }
        return shapes;
    }

    /// <summary>The engine's Llama/Qwen2 MLP is SwiGLU with SiLU; another activation would silently give SiLU's output.</summary>
    private static readonly string[] LlamaActivations = ["silu", "swish"];
    /// <summary>What <see cref="Inference.Kernels.Ops.Activate"/> computes, for Phi's MLP.</summary>
    private static readonly string[] PhiActivations = ["gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu", "silu", "swish"];

    private ModelConfig ReadLlamaLike(Architecture arch, string archName)
    {
        int hidden = Int("hidden_size"), heads = Int("num_attention_heads");
        int headDim = OptInt("head_dim") ?? hidden / heads;
        return Common(arch, archName) with
        {
            HiddenSize = hidden,
            IntermediateSize = Int("intermediate_size"),
            NumHeads = heads,
            NumKvHeads = KvHeads(heads),
            HeadDim = headDim,
            NormEps = Epsilon("rms_norm_eps"),
            HiddenAct = Activation(LlamaActivations, "silu", archName),
            Rope = ReadRope(headDim, partialFactor: 1.0, defaultTheta: 10000),
            AttentionBias = arch == Architecture.Qwen2 || (OptBool("attention_bias") ?? false),
            MlpBias = OptBool("mlp_bias") ?? false,
            TieWordEmbeddings = OptBool("tie_word_embeddings") ?? false,
        };
    }

    private ModelConfig ReadPhi(string archName)
    {
        if (OptBool("qk_layernorm") == true) throw Fail("qk_layernorm = true is not supported");
        int hidden = Int("hidden_size"), heads = Int("num_attention_heads");
        int headDim = hidden / heads;
        double partial = OptDouble("partial_rotary_factor")
            ?? ((raw["rope_parameters"] as JsonObject)?["partial_rotary_factor"] is { } pf
                ? Convert<double>("rope_parameters.partial_rotary_factor", pf) : 0.5);
        if (!(partial >= 0 && partial <= 1)) throw Fail($"field 'partial_rotary_factor' must lie in [0, 1], found {partial}");
        return Common(Architecture.Phi, archName) with
        {
            HiddenSize = hidden,
            IntermediateSize = Int("intermediate_size"),
            NumHeads = heads,
            NumKvHeads = KvHeads(heads),
            HeadDim = headDim,
            NormEps = Epsilon("layer_norm_eps"),
            HiddenAct = Activation(PhiActivations, "gelu_new", archName),
            Rope = ReadRope(headDim, partial, defaultTheta: 10000),
            AttentionBias = true,
            MlpBias = true,
            TieWordEmbeddings = OptBool("tie_word_embeddings") ?? false,
        };
    }

    private ModelConfig ReadQWen(string archName)
    {
        int hidden = Int("hidden_size"), heads = Int("num_attention_heads");
        int headDim = OptInt("kv_channels") ?? hidden / heads;
        double pct = OptDouble("rotary_pct") ?? 1.0;
        if (!(pct >= 0 && pct <= 1)) throw Fail($"field 'rotary_pct' must lie in [0, 1], found {pct}");
        int rotaryDim = (int)(headDim * pct);
        return Common(Architecture.QWen, archName) with
        {
            HiddenSize = hidden,
            IntermediateSize = Int("intermediate_size") / 2,
            NumHeads = heads,
            NumKvHeads = heads,
            HeadDim = headDim,
            NormEps = Epsilon("layer_norm_epsilon"),
            HiddenAct = "silu",
            Rope = new RopeConfig(PositiveNumber("rotary_emb_base", OptDouble("rotary_emb_base") ?? 10000), rotaryDim),
            AttentionBias = true,
            MlpBias = !(OptBool("no_bias") ?? true),
            TieWordEmbeddings = OptBool("tie_word_embeddings") ?? false,
            SeqLength = OptInt("seq_length") ?? 2048,
            UseDynamicNtk = OptBool("use_dynamic_ntk") ?? false,
            UseLognAttn = OptBool("use_logn_attn") ?? false,
        };
    }

    private ModelConfig Common(Architecture arch, string archName) => new()
    {
        Architecture = arch,
        ArchitectureName = archName,
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
    private RopeConfig ReadRope(int headDim, double partialFactor, double defaultTheta)
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

    private double PositiveNumber(string name, double v) =>
        v > 0 && double.IsFinite(v) ? v : throw Fail($"field '{name}' must be a positive number, found {v}");

    /// <summary>A norm epsilon below zero makes the variance plus eps negative for small inputs: NaN.</summary>
    private double Epsilon(string name)
    {
        double v = Double(name);
        return v >= 0 && double.IsFinite(v) ? v : throw Fail($"field '{name}' must be zero or positive, found {v}");
    }

    private int KvHeads(int heads)
    {
        int kv = OptInt("num_key_value_heads") ?? heads;
        return heads % kv == 0 ? kv : throw Fail($"{heads} attention heads are not a multiple of num_key_value_heads = {kv}");
    }

    private string Activation(string[] supported, string fallback, string archName)
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

    private CheckpointFormatException Fail(string problem) => new(path, problem);

    private JsonNode Field(string name) => raw[name] ?? throw Fail($"field '{name}' is missing");

    /// <summary>Sizes and counts: a zero or negative one would only fail later, as a division by zero or an empty model.</summary>
    private static readonly HashSet<string> MustBePositive =
    [
        "hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "num_hidden_layers",
        "vocab_size", "head_dim", "kv_channels", "max_position_embeddings", "seq_length",
    ];

    private int Int(string name) => Positive(name, Convert<int>(name, Field(name)));
    private double Double(string name) => Convert<double>(name, Field(name));
    private int? OptInt(string name) => raw[name] is { } n ? Positive(name, Convert<int>(name, n)) : null;

    private int Positive(string name, int value) =>
        value <= 0 && MustBePositive.Contains(name) ? throw Fail($"field '{name}' must be positive, found {value}") : value;
    private double? OptDouble(string name) => raw[name] is { } n ? Convert<double>(name, n) : null;
    private bool? OptBool(string name) => raw[name] is { } n ? Convert<bool>(name, n) : null;
    private string? OptString(string name) => raw[name] is { } n ? Convert<string>(name, n) : null;

    private T Convert<T>(string name, JsonNode node)
    {
        try { return node.GetValue<T>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException)
        {
            throw Fail($"field '{name}' should be {typeof(T).Name.ToLowerInvariant()}, found {node.ToJsonString()}");
        }
    }
}
