namespace EdgeLlm.Inference;

/// <summary>How a <see cref="ContinuousBatcher"/> schedules sequences.</summary>
/// <remarks>MaxBatch: the most sequences in flight at once (decoding or being prefilled).
/// PrefillChunkTokens: the most prompt tokens one step takes besides the decoding sequences' single tokens, so a long
/// prompt is prefilled over several steps instead of stalling every other sequence's decoding.
/// MaxKvTokens: the KV positions the sequences in flight may hold together; a sequence reserves its prompt + max new
/// tokens (capped at the context) when admitted, so a run never runs out of cache memory midway. Null: MaxBatch × context.
/// SharedPrefixMinTokens: a new sequence whose prompt starts with at least this many tokens of a sequence in flight
/// takes those positions from that sequence's cache (<see cref="KvCache.SharePrefix"/>) instead of computing them again:
/// a few-shot prompt's exemplars are prefilled once, and on a GPU stored and read once. 0 turns sharing off.</remarks>
public sealed record BatcherOptions
{
    public int MaxBatch { get; init; } = 8;
    public int PrefillChunkTokens { get; init; } = 512;
    public long? MaxKvTokens { get; init; }
    public int SharedPrefixMinTokens { get; init; } = 16;
}

/// <summary>One sequence to generate greedily: its prompt ids and when to stop.</summary>
public sealed record SequenceRequest(int[] Prompt, GenerationOptions Options);

/// <summary>
/// One finished sequence. <see cref="Index"/> is its request's position in the input; <see cref="FinishReason"/> is
/// stop_token, stop_string, length (max new tokens) or context (the model's context is full).
/// <see cref="Text"/> is null when the batcher has no detokenizer. Times are from the sequence's admission.
/// </summary>
public sealed record SequenceResult(int Index, int[] Tokens, string? Text, string FinishReason, int PromptTokens,
    double FirstTokenSeconds, double Seconds);

/// <summary>
/// Where a batched run stands: sequences finished, in flight, tokens so far, and the wall time since it started.
/// <see cref="PromptTokens"/> counts prompt tokens run through the model; <see cref="SharedPromptTokens"/> those taken
/// from another sequence's cache instead (<see cref="BatcherOptions.SharedPrefixMinTokens"/>).
/// </summary>
public sealed record BatchProgress(int Done, int InFlight, long PromptTokens, long GeneratedTokens, double Seconds, long SharedPromptTokens = 0)
{
    /// <summary>Generated tokens per second of wall time (all sequences together).</summary>
    public double TokensPerSecond => Seconds > 0 ? GeneratedTokens / Seconds : 0;
}
