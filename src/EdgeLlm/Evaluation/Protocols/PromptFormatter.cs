using System.Runtime.CompilerServices;
using EdgeLlm.Tokenization.ChatTemplates;

namespace EdgeLlm.Evaluation.Protocols;

/// <summary>A sample's exact model input under a protocol, with the generation settings it runs with.</summary>
public sealed record FormattedPrompt(string Text, GenerationRequest Request);

/// <summary>Turns a task's sample into the model's input text for one prompt style.</summary>
public abstract class PromptFormatter
{
    public abstract PromptStyle Style { get; }
    public abstract FormattedPrompt Format(EvalSample sample);

    /// <summary>--hf-type base: the sample's prompt as it is (rounds joined by "\n"), BOS added by the tokenizer.</summary>
    public static PromptFormatter Base { get; } = new BasePromptFormatter();

    private sealed class BasePromptFormatter : PromptFormatter
    {
        public override PromptStyle Style => PromptStyle.Base;
        public override FormattedPrompt Format(EvalSample sample) => new(sample.Prompt, sample.Request);
    }
}

/// <summary>
/// --hf-type chat: the sample's rounds as messages through the chat template with the generation prompt; the
/// request gains the model's stop words (generation_config's eos tokens decoded, and the tokenizer's eos token).
/// </summary>
public sealed class ChatPromptFormatter(ChatTemplate template, IReadOnlyDictionary<string, string> specialTokens, IReadOnlyList<string> stopWords)
    : PromptFormatter
{
    // One request object per task request, so that the runner still batches samples together.
    private readonly ConditionalWeakTable<GenerationRequest, GenerationRequest> requests = new();

    public ChatTemplate Template => template;
    public IReadOnlyList<string> StopWords => stopWords;
    public override PromptStyle Style => PromptStyle.Chat;

    public override FormattedPrompt Format(EvalSample sample)
    {
        var text = template.Render(OpenCompassChat.Messages(OpenCompassChat.RoundsOf(sample)),
            new ChatRenderOptions { AddGenerationPrompt = true, SpecialTokens = specialTokens });
        var request = requests.GetValue(sample.Request, r => r with
        {
            ChatFormatted = true,
            StopStrings = r.StopStrings.Concat(stopWords).Distinct().ToList(),
        });
        return new FormattedPrompt(text, request);
    }
}
