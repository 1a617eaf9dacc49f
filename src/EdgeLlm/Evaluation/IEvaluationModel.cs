namespace EdgeLlm.Evaluation;

/// <summary>How one batch of prompts is generated: greedy, up to <see cref="MaxNewTokens"/>, cut at a stop string.</summary>
/// <remarks>MaxInputTokens: Longest prompt the model sees (OpenCompass's max_seq_len); null = no limit.</remarks>
/// <remarks>TruncateMiddle: Over-long prompts keep their first and last halves (LongBench) instead of their beginning.</remarks>
/// <remarks>ChatFormatted: the prompt is already the chat template's output: it is encoded without adding special tokens,
/// and the output is decoded with special tokens kept and cut at the model's stop words (HuggingFacewithChatTemplate).</remarks>
public sealed record GenerationRequest(int MaxNewTokens, IReadOnlyList<string> StopStrings, int? MaxInputTokens = null, bool TruncateMiddle = false,
    bool ChatFormatted = false);

/// <summary>One prompt to complete and how.</summary>
public sealed record PromptToGenerate(string Prompt, GenerationRequest Request);

/// <summary>One finished completion: its prompt's position in the input, the text, and the tokens it took (0 when the model does not count them).</summary>
public sealed record GeneratedOutput(int Index, string Output, int PromptTokens = 0, int NewTokens = 0);

/// <summary>The model side of an evaluation: text in, text or log-likelihoods out. Metrics never see a model.</summary>
public interface IEvaluationModel
{
    /// <summary>Greedy completions, one per prompt (special tokens dropped, text cut before the first stop string).</summary>
    IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Greedy completions of prompts that may differ in their requests, each yielded as soon as it is done (so not
    /// necessarily in input order: see <see cref="GeneratedOutput.Index"/>); each output is what <see cref="Generate"/>
    /// gives that prompt. The default completes one prompt at a time.
    /// </summary>
    IEnumerable<GeneratedOutput> GenerateEach(IReadOnlyList<PromptToGenerate> prompts, IProgress<EdgeLlm.Inference.BatchProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < prompts.Count; i++)
            yield return new GeneratedOutput(i, Generate([prompts[i].Prompt], prompts[i].Request, cancellationToken)[0]);
    }

    /// <summary>log p(continuation | context) for each continuation; the context is encoded once and shared.</summary>
    IReadOnlyList<double> LogLikelihoods(string context, IReadOnlyList<string> continuations, CancellationToken cancellationToken = default);
}
