using EdgeLlm.Inference;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Evaluation;

/// <summary>
/// <see cref="IEvaluationModel"/> over EdgeLlm's own engine. Prompts are encoded with the tokenizer's
/// special tokens (BOS), as OpenCompass's HuggingFace base model does (add_special_tokens=True);
/// over-long prompts keep their beginning (the tokenizer's right truncation at max_seq_len) or, for
/// LongBench, their first and last halves, decoded and re-encoded as LongBench's pred.py does.
/// A chat-formatted request (HuggingFacewithChatTemplate) is encoded without special tokens (the template wrote
/// them), an over-long prompt keeps its end (truncation_side='left'), and the output is decoded with special
/// tokens kept and cut before the first stop word, as its batch_decode and split do.
/// </summary>
public sealed class EngineEvaluationModel(CausalLM model, ITokenizer tokenizer) : IEvaluationModel
{
    private readonly Generator generator = new(model, ids => tokenizer.Decode(ids, skipSpecialTokens: true));
    private readonly Generator chatGenerator = new(model, ids => tokenizer.Decode(ids, skipSpecialTokens: false));
    private readonly Scorer scorer = new(model);

    public CausalLM Model => model;
    public ITokenizer Tokenizer => tokenizer;

    public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationRequest request, CancellationToken cancellationToken = default)
    {
        // The engine's KV cache cannot grow past the model's context: new tokens are capped to fit, and a prompt
        // that leaves no room for a quarter of them keeps its end (where the question is) — see docs/evaluation.md.
        int maxNew = Math.Min(request.MaxNewTokens, model.MaxContext / 2);
        var encoded = prompts.Select(p => FitContext(Encode(p, request), maxNew, request.ChatFormatted)).ToList();
        int room = encoded.Min(e => model.MaxContext - e.Length);
        var options = new GenerationOptions { MaxNewTokens = Math.Max(1, Math.Min(maxNew, room)), StopStrings = request.StopStrings };
        bool chat = request.ChatFormatted;
        return (chat ? chatGenerator : generator).GreedyBatch(encoded, options, cancellationToken)
            .Select(r => r.Text ?? tokenizer.Decode(r.Tokens, skipSpecialTokens: !chat)).ToList();
    }

    private int[] FitContext(int[] ids, int maxNew, bool chat)
    {
        int limit = model.MaxContext - maxNew;
        if (ids.Length <= limit) return ids;
        if (chat) return ids[^limit..];
        var kept = ids[^(limit - (tokenizer.AddBosToken && tokenizer.BosTokenId != null ? 1 : 0))..];
        return tokenizer.AddBosToken && tokenizer.BosTokenId is int bos ? [bos, .. kept] : kept;
    }

    public IReadOnlyList<double> LogLikelihoods(string context, IReadOnlyList<string> continuations, CancellationToken cancellationToken = default)
    {
        var contextIds = tokenizer.Encode(context, addSpecialTokens: true);
        if (contextIds.Length == 0 && tokenizer.BosTokenId is int bos) contextIds = [bos];
        // A continuation's tokens are those after the context's when context+continuation is tokenized as one
        // text (so a merge across the boundary is scored as the model would see it); otherwise it is encoded alone.
        var continuationIds = continuations.Select(c =>
        {
            var whole = tokenizer.Encode(context + c, addSpecialTokens: true);
            return whole.AsSpan().StartsWith(contextIds) ? whole[contextIds.Length..] : tokenizer.Encode(c);
        }).ToList();
        return scorer.ScoreContinuations(contextIds, continuationIds, cancellationToken).Select(s => s.LogLikelihood).ToList();
    }

    private int[] Encode(string prompt, GenerationRequest request) => PromptEncoding.Encode(tokenizer, prompt, request);
}
