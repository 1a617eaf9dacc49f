using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeLlm.Checkpoints;

/// <summary>
/// A Hugging Face model folder: <c>config.json</c> plus <c>model.safetensors</c> or sharded
/// <c>model-0000k-of-0000n.safetensors</c> with <c>model.safetensors.index.json</c>. Every shard is
/// memory-mapped; tensors stay in their stored dtype.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    public const string ConfigFile = "config.json";
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    private readonly List<SafeTensorsFile> files;
    private readonly Dictionary<string, TensorView> tensors;

    private Checkpoint(string directory, ModelConfig config, List<SafeTensorsFile> files, Dictionary<string, TensorView> tensors)
    {
        Directory = directory; Config = config; this.files = files; this.tensors = tensors;
    }

    public string Directory { get; }
    public ModelConfig Config { get; }
    public IReadOnlyDictionary<string, TensorView> Tensors => tensors;
    public IReadOnlyList<string> Files => files.Select(f => f.Path).ToList();

    /// <summary>Total bytes of tensor data (what a forward pass streams through per token).</summary>
    public long WeightBytes => tensors.Values.Sum(t => t.ByteLength);

    /// <summary>Number of stored parameters; a tied embedding/head is stored, and counted, once.</summary>
    public long ParameterCount => tensors.Values.Where(t => t.DType.IsFloat()).Sum(t => t.ElementCount);

    /// <summary>The dtype that holds most of the weight bytes.</summary>
    public DType DType => tensors.Values.GroupBy(t => t.DType).OrderByDescending(g => g.Sum(t => t.ByteLength)).First().Key;

    public static Checkpoint Open(string directory)
    {
        var dir = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(dir)) throw new CheckpointFormatException(dir, "model folder not found");
        var configPath = Path.Combine(dir, ConfigFile);
        if (!File.Exists(configPath)) throw new CheckpointFormatException(configPath, "config.json is missing from the model folder");
        var config = ModelConfig.Load(configPath);

        var files = new List<SafeTensorsFile>();
        var map = new Dictionary<string, TensorView>(StringComparer.Ordinal);
        try
        {
            var indexPath = Path.Combine(dir, IndexFile);
            var singlePath = Path.Combine(dir, SingleFile);
            if (File.Exists(indexPath))
            {
                var weightMap = ReadWeightMap(indexPath);
                foreach (var shardName in weightMap.Values.Distinct().Order(StringComparer.Ordinal))
                {
                    var shardPath = Path.Combine(dir, shardName);
                    if (!File.Exists(shardPath))
                        throw new CheckpointFormatException(indexPath, $"shard '{shardName}' named by the index is missing");
                    files.Add(SafeTensorsFile.Open(shardPath));
                }
                var byName = files.ToDictionary(f => Path.GetFileName(f.Path));
                foreach (var (tensor, shard) in weightMap)
                {
                    if (!byName[shard].Tensors.TryGetValue(tensor, out var view))
                        throw new CheckpointFormatException(byName[shard].Path, $"tensor '{tensor}' is listed in {IndexFile} but not stored in this shard");
                    map[tensor] = view;
                }
            }
            else if (File.Exists(singlePath))
            {
                var f = SafeTensorsFile.Open(singlePath);
                files.Add(f);
                foreach (var (name, view) in f.Tensors) map[name] = view;
            }
            else
            {
                throw new CheckpointFormatException(dir, $"no {SingleFile} or {IndexFile} in the model folder");
            }
            return new Checkpoint(dir, config, files, map);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(indexPath)) as JsonObject
                ?? throw new CheckpointFormatException(indexPath, "not a JSON object");
            var wm = node["weight_map"] as JsonObject ?? throw new CheckpointFormatException(indexPath, "field 'weight_map' is missing");
            return wm.ToDictionary(kv => kv.Key, kv =>
            {
                var shard = kv.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
                if (string.IsNullOrEmpty(shard))
                    throw new CheckpointFormatException(indexPath, $"weight_map entry '{kv.Key}' has no shard name (found {kv.Value?.ToJsonString() ?? "null"})");
                if (Path.GetFileName(shard) != shard || shard is "." or "..")
                    throw new CheckpointFormatException(indexPath, $"weight_map entry '{kv.Key}' names '{shard}', which is not a file in the model folder");
                return shard;
            });
        }
        catch (JsonException e) { throw new CheckpointFormatException(indexPath, $"not valid JSON: {e.Message}", e); }
    }

    public bool Contains(string name) => tensors.ContainsKey(name);

    /// <summary>The named tensor; a missing one is an error naming the model folder.</summary>
    public TensorView this[string name] => tensors.TryGetValue(name, out var t) ? t
        : throw new CheckpointFormatException(Directory, $"tensor '{name}' is missing from the checkpoint");

    public TensorView? TryGet(string name) => tensors.GetValueOrDefault(name);

    /// <summary>Checks that a tensor has the expected shape, naming file and tensor when it does not.</summary>
    public TensorView Expect(string name, params long[] shape)
    {
        var t = this[name];
        if (!t.Shape.SequenceEqual(shape))
            throw new CheckpointFormatException(t.SourcePath,
                $"tensor '{name}' has shape [{string.Join(", ", t.Shape)}], config.json implies [{string.Join(", ", shape)}]");
        if (!t.DType.IsFloat())
            throw new CheckpointFormatException(t.SourcePath, $"tensor '{name}' is {t.DType.ToSafetensorsName()}, expected a float type");
        return t;
    }

    /// <summary>
    /// Checks the folder against its config without reading weights: every tensor the architecture needs
    /// (<see cref="TensorLayout"/>) is stored with the implied shape and a float type, and no decoder layer
    /// beyond <c>num_hidden_layers</c> is stored (it would be silently dropped).
    /// </summary>
    public void Validate()
    {
        foreach (var spec in TensorLayout.For(Config))
        {
            if (spec.Role == TensorRole.Head && Config.TieWordEmbeddings && !Contains(spec.Name)) continue;
            Expect(spec.Name, spec.Shape);
        }
        int stored = StoredLayerCount();
        if (stored > Config.NumLayers)
            throw new CheckpointFormatException(Config.SourcePath,
                $"num_hidden_layers is {Config.NumLayers} but the checkpoint stores {stored} decoder layers; the extra layers would be silently dropped");
    }

    private static readonly System.Text.RegularExpressions.Regex LayerIndex = new(@"^(?:model\.layers|transformer\.h)\.(\d+)\.");

    private int StoredLayerCount() => tensors.Keys.Select(n => LayerIndex.Match(n)).Where(m => m.Success)
        .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1).DefaultIfEmpty(0).Max();

    /// <summary>The first stored float tensor holding a NaN or infinity, or null; reads every weight (for diagnosing a non-finite forward).</summary>
    public TensorView? FirstNonFiniteTensor() => tensors.Values.Where(t => t.DType.IsFloat()).FirstOrDefault(t => !t.AllFinite());

    public void Dispose()
    {
        foreach (var f in files) f.Dispose();
        files.Clear();
    }
}
