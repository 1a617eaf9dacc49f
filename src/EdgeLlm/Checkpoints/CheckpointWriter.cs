using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeLlm.Checkpoints;

/// <summary>
/// Writes a model folder in the Hugging Face layout: one <c>model.safetensors</c>, or shards named
/// <c>model-0000k-of-0000n.safetensors</c> with <c>model.safetensors.index.json</c>. Every file is
/// written atomically; the index and config go last, so a folder with an index is complete.
/// </summary>
public static class CheckpointWriter
{
    /// <summary>The shard size transformers' <c>save_pretrained</c> uses by default.</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    /// <summary>Writes the folder; <paramref name="progress"/> gets stage "writing" in bytes of tensor data after each tensor.</summary>
    public static IReadOnlyList<string> Save(string directory, JsonObject config, IReadOnlyList<TensorData> tensors,
        long maxShardBytes = DefaultMaxShardBytes, IProgress<StageProgress>? progress = null)
    {
        Directory.CreateDirectory(directory);
        long total = tensors.Sum(t => t.ByteLength), done = 0;
        Action<long>? wrote = progress is null ? null : bytes => progress.Report(new StageProgress("writing", done += bytes, total, "bytes"));
        var shards = Split(tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList(), maxShardBytes);
        var written = new List<string>();
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        if (shards.Count == 1)
        {
            var path = Path.Combine(directory, Checkpoint.SingleFile);
            SafeTensorsWriter.Write(path, shards[0], metadata, wrote);
            written.Add(path);
            DeleteIfPresent(Path.Combine(directory, Checkpoint.IndexFile));
        }
        else
        {
            var weightMap = new JsonObject();
            for (int i = 0; i < shards.Count; i++)
            {
                var name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                var path = Path.Combine(directory, name);
                SafeTensorsWriter.Write(path, shards[i], metadata, wrote);
                written.Add(path);
                foreach (var t in shards[i]) weightMap[t.Name] = name;
            }
            var index = new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["total_parameters"] = tensors.Sum(t => t.ByteLength / t.DType.SizeOf()),
                    ["total_size"] = tensors.Sum(t => t.ByteLength),
                },
                ["weight_map"] = weightMap,
            };
            var indexPath = Path.Combine(directory, Checkpoint.IndexFile);
            AtomicFile.WriteAllText(indexPath, index.ToJsonString(Indented));
            written.Add(indexPath);
            DeleteIfPresent(Path.Combine(directory, Checkpoint.SingleFile));
        }
        var configPath = Path.Combine(directory, Checkpoint.ConfigFile);
        AtomicFile.WriteAllText(configPath, config.ToJsonString(Indented));
        written.Add(configPath);
        return written;
    }

    /// <summary>Copies a checkpoint, optionally converting float tensors to <paramref name="dtype"/>.</summary>
    public static IReadOnlyList<string> SaveAs(Checkpoint source, string directory, DType? dtype = null,
        long maxShardBytes = DefaultMaxShardBytes, IProgress<StageProgress>? progress = null)
    {
        var config = (JsonObject)source.Config.Raw.DeepClone();
        if (dtype is { } d)
        {
            if (config.ContainsKey("dtype")) config["dtype"] = d.ToTorchName();
            else config["torch_dtype"] = d.ToTorchName();
        }
        var tensors = source.Tensors.Values
            .Select(v => TensorData.FromView(v, v.DType.IsFloat() ? dtype : null)).ToList();
        return Save(directory, config, tensors, maxShardBytes, progress);
    }

    internal static JsonSerializerOptions Indented { get; } = new() { WriteIndented = true };

    private static List<List<TensorData>> Split(List<TensorData> tensors, long maxShardBytes)
    {
        var shards = new List<List<TensorData>> { new() };
        long size = 0;
        foreach (var t in tensors)
        {
            if (size > 0 && size + t.ByteLength > maxShardBytes)
            {
                shards.Add(new());
                size = 0;
            }
            shards[^1].Add(t);
            size += t.ByteLength;
        }
        return shards;
    }

    private static void DeleteIfPresent(string path)
    {
        if (File.Exists(path)) File.Delete(path);
    }
}
