using System.Text.Json;

namespace EdgeLlm.Tokenization;

/// <summary>
/// The special tokens a tokenizer.json's <c>post_processor</c> wraps a single sequence in when special tokens are
/// added (a <c>TemplateProcessing</c>, alone or inside a <c>Sequence</c>, as Llama-3.1's file adds
/// <c>&lt;|begin_of_text|&gt;</c>). transformers' fast tokenizers add exactly these; tokenizer_config.json's
/// <c>add_bos_token</c>/<c>add_eos_token</c>, when present, still decide (the Llama tokenizer classes rebuild the
/// template from them).
/// </summary>
internal static class PostProcessorTemplate
{
    public static SpecialTokenSettings Apply(JsonElement root, SpecialTokenSettings settings, string path)
    {
        if (Find(root.TryGetProperty("post_processor", out var p) ? p : default) is not { } template) return settings;
        if (!template.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array)
            throw new TokenizerFormatException("post_processor TemplateProcessing has no 'single' list.", path);
        var before = new List<string>();
        var after = new List<string>();
        bool seenSequence = false;
        foreach (var piece in single.EnumerateArray())
        {
            if (piece.TryGetProperty("Sequence", out _)) { seenSequence = true; continue; }
            if (!piece.TryGetProperty("SpecialToken", out var special) || !special.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
                throw new TokenizerFormatException("post_processor TemplateProcessing: each 'single' piece must be a Sequence or a SpecialToken with an 'id'.", path);
            (seenSequence ? after : before).Add(id.GetString()!);
        }
        if (before.Count > 1 || after.Count > 1)
            throw new TokenizerFormatException($"post_processor TemplateProcessing adds {before.Count} tokens before and {after.Count} after a sequence; only one BOS and one EOS are supported.", path);
        if (settings.AddBosToken is null && before.Count == 1)
            settings = settings with { BosToken = Agree(settings.BosToken, before[0], "bos_token", path), AddBosToken = true };
        if (settings.AddEosToken is null && after.Count == 1)
            settings = settings with { EosToken = Agree(settings.EosToken, after[0], "eos_token", path), AddEosToken = true };
        return settings;
    }

    private static JsonElement? Find(JsonElement processor)
    {
        if (processor.ValueKind != JsonValueKind.Object || !processor.TryGetProperty("type", out var type)) return null;
        if (type.ValueEquals("TemplateProcessing")) return processor;
        if (type.ValueEquals("Sequence") && processor.TryGetProperty("processors", out var list) && list.ValueKind == JsonValueKind.Array)
            foreach (var inner in list.EnumerateArray())
                if (Find(inner) is { } found) return found;
        return null;
    }

    // The template's token is the one added; a config naming another for the same role would make BosTokenId lie.
    private static string Agree(string? configured, string template, string role, string path) =>
        configured is null || configured == template ? template
            : throw new TokenizerFormatException($"post_processor adds '{template}' but tokenizer_config.json's {role} is '{configured}'.", path);
}
