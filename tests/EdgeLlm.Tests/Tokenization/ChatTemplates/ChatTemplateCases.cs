using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Tokenization.ChatTemplates;

/// <summary>The real chat templates of ../shared/tokenizers and the message lists they are rendered over.</summary>
public static class ChatTemplateCases
{
    public sealed record Template(string Name, string Source, bool SupportsTools);

    public static IReadOnlyList<Template> Templates()
    {
        var list = new List<Template>();
        foreach (var file in Directory.GetFiles(SharedData.Path("tokenizers", "chat-templates"), "*.jinja").Order(StringComparer.Ordinal))
        {
            var source = File.ReadAllText(file);
            list.Add(new Template(System.IO.Path.GetFileName(file), source, source.Contains("tools")));
        }
        foreach (var folder in new[] { "llama3", "qwen3", "gpt2", "phi-2" })
        {
            var config = SharedData.Path("tokenizers", folder, "tokenizer_config.json");
            var node = JsonNode.Parse(File.ReadAllText(config))!["chat_template"];
            if (node is JsonValue v && v.TryGetValue<string>(out var source))
                list.Add(new Template(folder + "/tokenizer_config.json", source, source.Contains("tools")));
        }
        return list;
    }

    private static readonly string Tool = """
        {"type": "function", "function": {"name": "get_weather", "description": "Get the weather in a city.",
         "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city, e.g. Paris"},
         "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Unit "}}, "required": ["city"]},
         "return": {"type": "string", "description": "The forecast"}}}
        """;

    /// <summary>(name, messages JSON, tools JSON or null).</summary>
    public static IReadOnlyList<(string Name, string Messages, string? Tools)> MessageLists(bool withTools)
    {
        var lists = new List<(string, string, string?)>
        {
            ("user", """[{"role": "user", "content": "Hello!"}]""", null),
            ("system+user", """[{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2+2?"}]""", null),
            ("multi-turn", """[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, how can I help?"}, {"role": "user", "content": "Tell me a joke."}]""", null),
            ("system+multi-turn", """[{"role": "system", "content": "  Be kind.\n"}, {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"}, {"role": "user", "content": "Q3"}]""", null),
            ("ends-with-assistant", """[{"role": "user", "content": "Say yes."}, {"role": "assistant", "content": "Yes."}]""", null),
            ("whitespace+unicode", """[{"role": "user", "content": "  \n多行\n文本 😀 \t\"quoted\" 'single' \\ back  \n\n"}, {"role": "assistant", "content": "\n答：好的。\n"}, {"role": "user", "content": "{{ not a tag }} {% nor this %}"}]""", null),
            ("think", """[{"role": "user", "content": "Why?"}, {"role": "assistant", "content": "<think>\nreasoning\n</think>\n\nBecause."}, {"role": "user", "content": "Sure?"}]""", null),
            ("non-alternating", """[{"role": "user", "content": "one"}, {"role": "user", "content": "two"}]""", null),
        };
        if (withTools)
        {
            lists.Add(("tools", """[{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Paris?"}]""", "[" + Tool + "]"));
            lists.Add(("tool-call+response", """
                [{"role": "user", "content": "Weather in Paris?"},
                 {"role": "assistant", "content": "", "tool_calls": [{"id": "abcdefghi", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]},
                 {"role": "tool", "tool_call_id": "abcdefghi", "name": "get_weather", "content": "22 degrees"},
                 {"role": "user", "content": "Thanks"}]
                """, "[" + Tool + "]"));
        }
        return lists;
    }

    public static readonly IReadOnlyDictionary<string, string> SpecialTokens = new Dictionary<string, string>
    {
        ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|eot_id|>",
    };

    /// <summary>Variables some templates read (fixed so that both renderers see the same date).</summary>
    public static readonly IReadOnlyDictionary<string, JsonElement> Variables = new Dictionary<string, JsonElement>
    {
        ["date_string"] = JsonSerializer.SerializeToElement("02 Dec 2026"),
    };
}
