using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization.ChatTemplates;

namespace EdgeLlm.Tests.Tokenization.ChatTemplates;

/// <summary>
/// EdgeLlm's Jinja2 renderer against @huggingface/jinja (tools/jinja/render.mjs under node) on every chat
/// template in ../shared/tokenizers, over message lists with and without a system message, multi-turn,
/// add_generation_prompt true and false, and tools where the template takes them: the text must be identical,
/// and a template that refuses a list (raise_exception, an undefined item) must fail in both.
/// </summary>
public class ChatTemplateReferenceTests
{
    private sealed record Case(string Template, string Source, string List, string Messages, string? Tools, bool AddGenerationPrompt);

    private static List<Case> AllCases() =>
        ChatTemplateCases.Templates().SelectMany(t => ChatTemplateCases.MessageLists(t.SupportsTools)
            .SelectMany(l => new[] { false, true }.Select(g => new Case(t.Name, t.Source, l.Name, l.Messages, l.Tools, g)))).ToList();

    private static object Context(Case c)
    {
        var context = new JsonObject
        {
            ["messages"] = JsonNode.Parse(c.Messages),
            ["add_generation_prompt"] = c.AddGenerationPrompt,
            ["tools"] = c.Tools == null ? null : JsonNode.Parse(c.Tools),
            ["documents"] = null,
        };
        foreach (var (k, v) in ChatTemplateCases.SpecialTokens) context[k] = v;
        foreach (var (k, v) in ChatTemplateCases.Variables) context[k] = JsonNode.Parse(v.GetRawText());
        return context;
    }

    [Fact]
    public void EveryTemplateAndMessageListRendersAsHuggingFaceJinjaDoes()
    {
        var cases = AllCases();
        Assert.True(ChatTemplateCases.Templates().Count >= 10, "the shared templates (8 files + 2 tokenizer configs) were not all found");
        var expected = NodeReference.Run("jinja", "render.mjs", cases.Select(c => new { template = c.Source, context = Context(c) }).ToList());
        var failures = new List<string>();
        int rendered = 0;
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var reference = expected[i];
            string? text = null, error = null;
            try
            {
                var template = ChatTemplate.Parse(c.Source, c.Template);
                text = template.Render(JsonDocument.Parse(c.Messages).RootElement, new ChatRenderOptions
                {
                    AddGenerationPrompt = c.AddGenerationPrompt, SpecialTokens = ChatTemplateCases.SpecialTokens,
                    Tools = c.Tools == null ? null : JsonDocument.Parse(c.Tools).RootElement, Variables = ChatTemplateCases.Variables,
                });
            }
            catch (ChatTemplateException e) { error = e.Message; }
            var label = $"{c.Template} / {c.List} / add_generation_prompt={c.AddGenerationPrompt}";
            if (reference.TryGetProperty("text", out var t))
            {
                if (text != t.GetString()) failures.Add($"{label}:\n  expected {JsonSerializer.Serialize(t.GetString())}\n  actual   {(text != null ? JsonSerializer.Serialize(text) : "error " + error)}");
                else rendered++;
            }
            else if (text != null)
                failures.Add($"{label}: the reference failed ({reference.GetProperty("error").GetString()}) but EdgeLlm rendered {JsonSerializer.Serialize(text)}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} differ:\n" + string.Join("\n", failures.Take(15)));
        Assert.True(rendered >= cases.Count * 3 / 4, $"only {rendered} of {cases.Count} cases rendered text");
    }
}
