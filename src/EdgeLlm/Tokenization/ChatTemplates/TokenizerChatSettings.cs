using System.Text.Json;

namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>
/// A model folder's chat template and the special tokens transformers passes to it (bos_token, eos_token,
/// unk_token, pad_token, when set), read from tokenizer_config.json ("chat_template": a string, or a list of
/// {name, template} of which "default" is used) or a chat_template.jinja file beside it (newer transformers).
/// </summary>
public sealed record TokenizerChatSettings(ChatTemplate? Template, IReadOnlyDictionary<string, string> SpecialTokens)
{
    private static readonly string[] SpecialTokenNames = ["bos_token", "eos_token", "unk_token", "pad_token"];

    public static TokenizerChatSettings Read(string folder)
    {
        var config = Path.Combine(folder, "tokenizer_config.json");
        var jinja = Path.Combine(folder, "chat_template.jinja");
        var tokens = new Dictionary<string, string>();
        ChatTemplate? template = File.Exists(jinja) ? ChatTemplate.FromFile(jinja) : null;
        if (!File.Exists(config)) return new TokenizerChatSettings(template, tokens);
        using var doc = JsonFiles.Parse(config);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new TokenizerFormatException("expected a JSON object at the top level.", config);
        foreach (var name in SpecialTokenNames)
        {
            if (!root.TryGetProperty(name, out var v)) continue;
            var content = v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Object when v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
                JsonValueKind.Null => null,
                _ => throw new TokenizerFormatException($"'{name}' must be a string, null, or an object with a string 'content'.", config),
            };
            if (content != null) tokens[name] = content;
        }
        if (template == null && root.TryGetProperty("chat_template", out var t))
        {
            string? source = t.ValueKind switch
            {
                JsonValueKind.String => t.GetString(),
                JsonValueKind.Null => null,
                JsonValueKind.Array => t.EnumerateArray().FirstOrDefault(e => e.ValueKind == JsonValueKind.Object
                    && e.TryGetProperty("name", out var n) && n.ValueEquals("default")) is { ValueKind: JsonValueKind.Object } d
                    && d.TryGetProperty("template", out var dt) && dt.ValueKind == JsonValueKind.String
                    ? dt.GetString() : throw new TokenizerFormatException("'chat_template' is a list without a {\"name\": \"default\", \"template\": ...} entry.", config),
                _ => throw new TokenizerFormatException("'chat_template' must be a string or a list of {name, template}.", config),
            };
            if (source != null) template = ChatTemplate.Parse(source, config + " (chat_template)");
        }
        return new TokenizerChatSettings(template, tokens);
    }
}
