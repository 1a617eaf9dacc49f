using EdgeLlm.Tokenization.ChatTemplates;

namespace EdgeLlm.Evaluation.Protocols;

/// <summary>
/// OpenCompass 0.3.1's HuggingFacewithChatTemplate input side (models/huggingface_above_v4_33.py): the parsed
/// template rounds become chat messages (_convert_chat_messages: empty prompts skipped, HUMAN→user,
/// BOT→assistant, SYSTEM→system — the default meta template has already mapped SYSTEM to HUMAN — and
/// consecutive messages of one role merged with "\n"), then apply_chat_template(add_generation_prompt=True).
/// </summary>
public static class OpenCompassChat
{
    public static IReadOnlyList<ChatMessage> Messages(IReadOnlyList<PromptRound> rounds)
    {
        var messages = new List<ChatMessage>();
        foreach (var round in rounds)
        {
            if (round.Text.Length == 0) continue;
            // APITemplateParser's default meta template maps SYSTEM to the HUMAN api role on purpose.
            var role = round.Role switch
            {
                "HUMAN" or "SYSTEM" => "user",
                "BOT" => "assistant",
                _ => throw new ArgumentException($"unknown OpenCompass role '{round.Role}'"),
            };
            if (messages.Count > 0 && messages[^1].Role == role) messages[^1] = messages[^1] with { Content = messages[^1].Content + "\n" + round.Text };
            else messages.Add(new ChatMessage(role, round.Text));
        }
        return messages;
    }

    public static IReadOnlyList<PromptRound> RoundsOf(EvalSample sample) => sample.Rounds ?? [PromptRound.Human(sample.Prompt)];
}
