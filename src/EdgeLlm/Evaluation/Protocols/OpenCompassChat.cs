using EdgeLlm.Tokenization.ChatTemplates;

namespace EdgeLlm.Evaluation.Protocols;

/// <summary>
/// OpenCompass 0.3.1's path from a prompt template's rounds to chat messages under --hf-type chat.
/// <para>APITemplateParser with HuggingFacewithChatTemplate's default meta template (models/base_api.py,
/// huggingface_above_v4_33.py _get_meta_template): the rounds are cut into dialogue rounds wherever the role order
/// HUMAN, SYSTEM, BOT starts again; each dialogue round emits, in the meta template's order, HUMAN, SYSTEM (mapped to
/// the HUMAN api role on purpose) and BOT with the round's text for that role or "" — stopping before the BOT of the
/// last round, which is the one to generate — and consecutive entries of one api role are joined with "\n". So a
/// HUMAN prompt is followed by the empty SYSTEM one and every user message ends in "\n".</para>
/// <para>_convert_chat_messages: empty prompts skipped, HUMAN→user, BOT→assistant, and consecutive messages of one
/// role joined with "\n" again.</para>
/// </summary>
public static class OpenCompassChat
{
    private static readonly string[] MetaRound = ["HUMAN", "SYSTEM", "BOT"];

    public static IReadOnlyList<ChatMessage> Messages(IReadOnlyList<PromptRound> rounds)
    {
        var dialogue = SplitRounds(rounds);
        var api = new List<(string Role, string Text)>();
        for (int r = 0; r < dialogue.Count; r++)
        {
            foreach (var role in MetaRound)
            {
                if (role == "BOT" && r == dialogue.Count - 1) break; // generate=True: the prompt stops here
                var text = dialogue[r].LastOrDefault(p => p.Role == role)?.Text ?? "";
                api.Add((role == "SYSTEM" ? "HUMAN" : role, text));
            }
        }
        var merged = Merge(api);
        var messages = merged.Where(m => m.Text.Length > 0).Select(m => (Role: m.Role == "BOT" ? "assistant" : "user", m.Text)).ToList();
        return Merge(messages).Select(m => new ChatMessage(m.Role, m.Text)).ToList();
    }

    public static IReadOnlyList<PromptRound> RoundsOf(EvalSample sample) => sample.Rounds ?? [PromptRound.Human(sample.Prompt)];

    // APITemplateParser._split_rounds: a new round starts when a role does not come later in HUMAN, SYSTEM, BOT.
    private static List<List<PromptRound>> SplitRounds(IReadOnlyList<PromptRound> rounds)
    {
        var result = new List<List<PromptRound>>();
        int last = -1;
        foreach (var round in rounds)
        {
            int at = Array.IndexOf(MetaRound, round.Role);
            if (at < 0) throw new ArgumentException($"unknown OpenCompass role '{round.Role}'");
            if (at <= last || result.Count == 0) result.Add([]);
            result[^1].Add(round);
            last = at;
        }
        return result;
    }

    private static List<(string Role, string Text)> Merge(List<(string Role, string Text)> items)
    {
        var merged = new List<(string Role, string Text)>();
        foreach (var item in items)
        {
            if (merged.Count > 0 && merged[^1].Role == item.Role) merged[^1] = (item.Role, merged[^1].Text + "\n" + item.Text);
            else merged.Add(item);
        }
        return merged;
    }
}
