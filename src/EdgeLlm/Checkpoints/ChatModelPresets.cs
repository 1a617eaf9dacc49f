using System.Text.Json;

namespace EdgeLlm.Checkpoints;

/// <summary>
/// The chat side of the instruct presets (data/chat-presets, embedded): the published chat template's name (a file
/// of ../shared/tokenizers/chat-templates), the special tokens its tokenizer passes to it, generation_config's
/// eos_token_id list and the stop words OpenCompass's HuggingFacewithChatTemplate derives from them (each id
/// decoded, plus the tokenizer's eos_token).
/// </summary>
public sealed record ChatModelPreset(string ChatTemplate, IReadOnlyDictionary<string, string> SpecialTokens,
    IReadOnlyList<int> GenerationEosTokenIds, IReadOnlyList<string> StopWords)
{
    private const string Prefix = "EdgeLlm.chat-presets.";

    public static IReadOnlyList<string> Names { get; } = typeof(ChatModelPreset).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix) && n.EndsWith(".json")).Select(n => n[Prefix.Length..^5]).Order().ToList();

    public static ChatModelPreset Get(string name)
    {
        using var stream = typeof(ChatModelPreset).Assembly.GetManifestResourceStream(Prefix + name + ".json")
            ?? throw new ArgumentException($"No chat preset '{name}' (known: {string.Join(", ", Names)}).");
        return JsonSerializer.Deserialize<ChatModelPreset>(stream, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;
    }
}
