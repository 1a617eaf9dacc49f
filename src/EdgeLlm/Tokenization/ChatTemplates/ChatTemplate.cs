using System.Text.Json;

namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>One chat message: a role ("system", "user", "assistant", …) and its text.</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// What a template is rendered with besides the messages, as transformers' apply_chat_template passes it:
/// add_generation_prompt, the tokenizer's special tokens (bos_token, eos_token, … when set), tools (none
/// when absent) and any extra template variables (date_string, enable_thinking, …) given as JSON values.
/// </summary>
public sealed record ChatRenderOptions
{
    public bool AddGenerationPrompt { get; init; }
    public IReadOnlyDictionary<string, string> SpecialTokens { get; init; } = new Dictionary<string, string>();
    public JsonElement? Tools { get; init; }
    public IReadOnlyDictionary<string, JsonElement> Variables { get; init; } = new Dictionary<string, JsonElement>();
}

/// <summary>
/// A Hugging Face chat template (Jinja2) parsed once and rendered as transformers renders it: Jinja2 semantics
/// with trim_blocks and lstrip_blocks, an immutable sandbox, its raise_exception, strftime_now and tojson.
/// Unsupported syntax fails at <see cref="Parse"/> with the template's name and line:column.
/// </summary>
public sealed class ChatTemplate
{
    private readonly List<Node> body;

    public string Name { get; }
    public string Source { get; }

    private ChatTemplate(string source, string name, List<Node> body)
    {
        Source = source;
        Name = name;
        this.body = body;
    }

    /// <param name="name">How errors name the template (its file, or "tokenizer_config.json of X").</param>
    public static ChatTemplate Parse(string source, string name)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new ChatTemplate(source, name, TemplateParser.Parse(source, name));
    }

    public static ChatTemplate FromFile(string path) => Parse(File.ReadAllText(path), path);

    public string Render(IReadOnlyList<ChatMessage> messages, ChatRenderOptions options) =>
        Render(JsonSerializer.SerializeToElement(messages.Select(m => new Dictionary<string, string> { ["role"] = m.Role, ["content"] = m.Content })), options);

    /// <summary>Renders messages given as JSON (an array of objects: role, content, and tool_calls or other fields).</summary>
    public string Render(JsonElement messages, ChatRenderOptions options)
    {
        if (messages.ValueKind != JsonValueKind.Array) throw new ChatTemplateException(Name, 0, 0, "messages must be a JSON array");
        var globals = new TemplateScope(null);
        TemplateGlobals.Define(globals);
        foreach (var (k, v) in options.SpecialTokens) globals.Set(k, v);
        globals.Set("messages", TemplateValues.FromJson(messages));
        globals.Set("tools", options.Tools is JsonElement t ? TemplateValues.FromJson(t) : null);
        globals.Set("documents", null);
        globals.Set("add_generation_prompt", options.AddGenerationPrompt);
        foreach (var (k, v) in options.Variables) globals.Set(k, TemplateValues.FromJson(v));
        return new TemplateEvaluator(Name).Render(body, new TemplateScope(globals));
    }
}
