using System.Text.Json;
using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Protocols;
using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization.ChatTemplates;

namespace EdgeLlm.Tests.Evaluation.Protocols;

/// <summary>
/// The edge-llm-2024 prompts against OpenCompass 0.3.1's own prompt code run on its dataset configs, rendered by
/// Python jinja2 as transformers' apply_chat_template does (tools/reference/opencompass_chat_prompts.py →
/// References/opencompass-chat-prompts.json): for the first samples of every task, the chat messages, the text
/// under the Llama-3.1-8B-Instruct and Qwen2-7B-Instruct templates, and max_out_len, character for character
/// (MMLU and C-Eval: the first 2 samples of 3 subjects each, 5-shot through FixKRetriever).
/// </summary>
public class OpenCompassChatPromptTests
{
    private static readonly JsonElement Reference = SharedData.ReferenceJson("opencompass-chat-prompts.json");

    private static Dictionary<string, EvalSample> SamplesOf(string task) =>
        TaskCatalog.Create(task, SharedData.Path("datasets"), EvaluationProtocols.EdgeLlm2024).LoadSamples().ToDictionary(s => s.Id);

    [Fact]
    public void FirstSamplesOfEveryTaskMatchOpenCompassCharacterForCharacter()
    {
        var samples = Reference.GetProperty("samples").EnumerateArray().ToList();
        // The protocol's tasks and the hold-out tasks (MMLU, C-Eval), which are not in its default list.
        Assert.Equal(EvaluationProtocols.EdgeLlm2024.DefaultTasks.Concat(["mmlu", "ceval"]).Order(), samples.Select(s => s.GetProperty("task").GetString()!).Distinct().Order());
        var byTask = new Dictionary<string, Dictionary<string, EvalSample>>();
        var formatters = Reference.GetProperty("models").EnumerateObject().ToDictionary(m => m.Name, m =>
        {
            var template = ChatTemplate.FromFile(SharedData.Path("tokenizers", "chat-templates", m.Value.GetProperty("template").GetString()!));
            var special = m.Value.GetProperty("special_tokens").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            return new ChatPromptFormatter(template, special, []);
        });
        foreach (var expected in samples)
        {
            var task = expected.GetProperty("task").GetString()!;
            var id = expected.GetProperty("id").GetString()!;
            if (!byTask.TryGetValue(task, out var loaded)) byTask[task] = loaded = SamplesOf(task);
            Assert.True(loaded.TryGetValue(id, out var sample), $"{task} has no sample {id}");
            var messages = OpenCompassChat.Messages(OpenCompassChat.RoundsOf(sample));
            var expectedMessages = expected.GetProperty("messages").EnumerateArray()
                .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToList();
            Assert.Equal(expectedMessages, messages);
            Assert.Equal(expected.GetProperty("max_out_len").GetInt32(), sample.Request.MaxNewTokens);
            foreach (var (model, formatter) in formatters)
                Assert.Equal(expected.GetProperty("text").GetProperty(model).GetString(), formatter.Format(sample).Text);
        }
    }

    // MMLU and C-Eval also carry the text OpenCompass's LMTemplateParser (no meta template, --hf-type base) makes.
    [Fact]
    public void HoldoutTasksBasePromptsMatchOpenCompassLmTemplateParser()
    {
        var withBase = Reference.GetProperty("samples").EnumerateArray().Where(s => s.TryGetProperty("base_prompt", out _)).ToList();
        Assert.Equal(12, withBase.Count);
        var loaded = new Dictionary<string, Dictionary<string, EvalSample>>();
        foreach (var expected in withBase)
        {
            var task = expected.GetProperty("task").GetString()!;
            if (!loaded.TryGetValue(task, out var samples))
                loaded[task] = samples = TaskCatalog.Create(task, SharedData.Path("datasets"), EvaluationProtocols.KitBase2024).LoadSamples().ToDictionary(s => s.Id);
            var sample = samples[expected.GetProperty("id").GetString()!];
            Assert.Equal(expected.GetProperty("base_prompt").GetString(), sample.Prompt);
            Assert.Equal(256, sample.Request.MaxNewTokens);
        }
    }
}
