using System.Text.Json;
using System.Text.RegularExpressions;

namespace EdgeLlm.Hub;

/// <summary>Which files of a repo to download, and how to tell from a snapshot folder that they are all there.</summary>
public interface IFileSelection
{
    IReadOnlyList<HubFile> Choose(IReadOnlyList<HubFile> available, string repoDescription);
    bool IsSatisfiedBy(string snapshotFolder);
}

/// <summary>Files given by exact path or glob (<c>*</c> within a folder level, <c>?</c> one character); each must match.</summary>
public sealed class PatternSelection(IReadOnlyList<string> patterns) : IFileSelection
{
    public IReadOnlyList<string> Patterns { get; } = patterns.Count > 0 ? patterns : throw new ArgumentException("Name at least one file to download.");

    public IReadOnlyList<HubFile> Choose(IReadOnlyList<HubFile> available, string repoDescription)
    {
        var chosen = new List<HubFile>();
        foreach (var pattern in Patterns)
        {
            var matches = available.Where(f => Matches(pattern, f.Path)).ToArray();
            if (matches.Length == 0)
                throw new HubException(HubFailure.NotFound, $"{repoDescription} has no file matching '{pattern}'.");
            chosen.AddRange(matches);
        }
        return chosen.DistinctBy(f => f.Path).ToArray();
    }

    public bool IsSatisfiedBy(string snapshotFolder)
    {
        if (!Directory.Exists(snapshotFolder)) return false;
        var present = Directory.EnumerateFiles(snapshotFolder, "*", SearchOption.AllDirectories)
            .Where(File.Exists) // a dangling link is not a file
            .Select(p => Path.GetRelativePath(snapshotFolder, p).Replace('\\', '/')).ToArray();
        return Patterns.All(pattern => present.Any(p => Matches(pattern, p)));
    }

    public static bool Matches(string pattern, string path) =>
        Regex.IsMatch(path, "^" + Regex.Escape(pattern).Replace(@"\*", "[^/]*").Replace(@"\?", "[^/]") + "$");
}

/// <summary>
/// What a model needs to load here: config, generation config, tokenizer files and safetensors weights (with
/// their index), from the repo's top folder. Pickled or other-framework weights are never fetched.
/// </summary>
public sealed class ModelFileSelection : IFileSelection
{
    public static ModelFileSelection Instance { get; } = new();

    private static readonly HashSet<string> supportFiles =
    [
        "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "added_tokens.json", "tokenizer.model", "qwen.tiktoken", "vocab.json", "merges.txt", "vocab.txt",
        "model.safetensors.index.json",
    ];

    public IReadOnlyList<HubFile> Choose(IReadOnlyList<HubFile> available, string repoDescription)
    {
        var top = available.Where(f => !f.Path.Contains('/')).ToArray();
        if (!top.Any(f => f.Path == "config.json"))
            throw new HubException(HubFailure.NotFound, $"{repoDescription} has no config.json, so it is not a transformers model.");
        if (!top.Any(f => f.Path.EndsWith(".safetensors", StringComparison.Ordinal)))
            throw new HubException(HubFailure.NotFound,
                $"{repoDescription} publishes no .safetensors weights (only {string.Join(", ", top.Select(f => f.Path).Where(IsOtherWeights).DefaultIfEmpty("none"))}); EdgeLlm loads safetensors only.");
        return top.Where(f => supportFiles.Contains(f.Path) || f.Path.EndsWith(".safetensors", StringComparison.Ordinal)).ToArray();
    }

    public bool IsSatisfiedBy(string folder)
    {
        if (!File.Exists(Path.Combine(folder, "config.json"))) return false;
        var index = Path.Combine(folder, "model.safetensors.index.json");
        if (File.Exists(index))
        {
            try
            {
                using var json = JsonDocument.Parse(File.ReadAllBytes(index));
                return json.RootElement.GetProperty("weight_map").EnumerateObject()
                    .Select(p => p.Value.GetString()!).Distinct().All(shard => File.Exists(Path.Combine(folder, shard)));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { return false; }
        }
        return Directory.EnumerateFiles(folder, "*.safetensors").Any(File.Exists);
    }

    private static bool IsOtherWeights(string path) =>
        path.EndsWith(".bin") || path.EndsWith(".pt") || path.EndsWith(".h5") || path.EndsWith(".msgpack") || path.EndsWith(".onnx") || path.EndsWith(".pth");
}
