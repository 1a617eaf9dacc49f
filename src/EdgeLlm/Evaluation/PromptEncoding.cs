using EdgeLlm.Tokenization;

namespace EdgeLlm.Evaluation;

/// <summary>
/// The token ids a prompt is given to the model as: with the tokenizer's BOS (--hf-type base) or, for a
/// chat-formatted prompt, exactly the template's text (add_special_tokens=False); an over-long prompt keeps its
/// beginning, or for LongBench its first and last halves, decoded and re-encoded as LongBench's pred.py does.
/// </summary>
public static class PromptEncoding
{
    public static int[] Encode(ITokenizer tokenizer, string prompt, GenerationRequest request)
    {
        var ids = tokenizer.Encode(prompt, addSpecialTokens: !request.ChatFormatted);
        if (request.MaxInputTokens is not int limit || ids.Length <= limit) return ids;
        if (!request.TruncateMiddle) return ids[..limit];
        int half = limit / 2;
        var text = tokenizer.Decode(ids[..half], skipSpecialTokens: true) + tokenizer.Decode(ids[^half..], skipSpecialTokens: true);
        var again = tokenizer.Encode(text, addSpecialTokens: true);
        return again.Length <= limit ? again : again[..limit];
    }
}
