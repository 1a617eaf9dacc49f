using System.Reflection;
using System.Text.Json.Nodes;

namespace EdgeLlm.Checkpoints;

/// <summary>
/// The real configs of the challenge's models (data/configs, embedded in the library): Phi-2,
/// Llama-3-8B, Qwen-7B and Qwen2-7B, for random-weight checkpoints with their exact shapes.
/// </summary>
public static class ModelPresets
{
    private const string Prefix = "EdgeLlm.configs.";

    public static IReadOnlyList<string> Names { get; } = typeof(ModelPresets).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix) && n.EndsWith(".json"))
        .Select(n => n[Prefix.Length..^5]).Order().ToList();

    public static JsonObject Config(string name)
    {
        using var stream = typeof(ModelPresets).Assembly.GetManifestResourceStream(Prefix + name + ".json")
            ?? throw new ArgumentException($"Unknown model preset '{name}' (known: {string.Join(", ", Names)}).");
        return (JsonObject)JsonNode.Parse(stream)!;
    }
}
