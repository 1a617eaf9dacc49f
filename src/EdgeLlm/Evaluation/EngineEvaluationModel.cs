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
/// Generation runs through a <see cref="ContinuousBatcher"/> (<paramref name="batching"/>; default options when null): each
/// prompt's new tokens and stop strings are its own, so its output does not depend on the prompts beside it.
/// </summary>
public sealed class EngineEvaluationModel(CausalLM model, ITokenizer tokenizer, BatcherOptions? batching = null) : IEvaluationModel
{
    private readonly Scorer scorer = new(model);

    public CausalLM Model => model;
    public ITokenizer Tokenizer => tokenizer;
    public BatcherOptions Batching { get; } = batching ?? new BatcherOptions();

    public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationRequest request, CancellationToken cancellationToken = default)
    {
        var outputs = new string[prompts.Count];
        foreach (var o in GenerateEach(prompts.Select(p => new PromptToGenerate(p, request)).ToList(), null, cancellationToken)) outputs[o.Index] = o.Output;
        return outputs;
    }

    public IEnumerable<GeneratedOutput> GenerateEach(IReadOnlyList<PromptToGenerate> prompts, IProgress<BatchProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (prompts.Count == 0) return [];
        bool chat = prompts[0].Request.ChatFormatted;
        if (prompts.Any(p => p.Request.ChatFormatted != chat))
            throw new ArgumentException("One GenerateEach call takes chat-formatted prompts or base prompts, not both (they decode differently).", nameof(prompts));
        var batcher = new ContinuousBatcher(model, Batching, TextOf(!chat));
        return batcher.Run(prompts.Select(p => Sequence(p.Prompt, p.Request)), progress, cancellationToken)
            .Select(r => new GeneratedOutput(r.Index, r.Text ?? tokenizer.Decode(r.Tokens, skipSpecialTokens: !chat), r.PromptTokens, r.Tokens.Length));
    }

    /// <summary>A prompt's ids and options. The engine's KV cache cannot grow past the model's context: new tokens are
    /// capped to fit, and a prompt that leaves no room for them keeps its end (where the question is) — see docs/evaluation.md.</summary>
    private SequenceRequest Sequence(string prompt, GenerationRequest request)
    {
        int maxNew = Math.Min(request.MaxNewTokens, model.MaxContext / 2);
        var ids = FitContext(Encode(prompt, request), maxNew, request.ChatFormatted);
        var options = new GenerationOptions { MaxNewTokens = Math.Max(1, Math.Min(maxNew, model.MaxContext - ids.Length)), StopStrings = request.StopStrings };
        return new SequenceRequest(ids, options);
    }

    /// <summary>Decoded text as the tokenizer's Decode gives it, read incrementally where the tokenizer exposes its tokens' bytes.</summary>
    private Func<IIncrementalText> TextOf(bool skipSpecialTokens) => tokenizer is CoreBackedTokenizer bytes
        ? () => new Utf8TokenText(id => bytes.TokenBytes(id, skipSpecialTokens))
        : () => new RedecodedText(ids => tokenizer.Decode(ids, skipSpecialTokens));

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
