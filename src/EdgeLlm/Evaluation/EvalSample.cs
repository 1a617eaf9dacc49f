namespace EdgeLlm.Evaluation;

/// <summary>One prompt of a task, ready to send to the model.</summary>
/// <remarks>Id: Stable across runs: the task's subset and the sample's position in its file.</remarks>
/// <remarks>Reference: What the output is compared with, as text (JSON for structured references).</remarks>
public sealed record EvalSample(string Id, string Subset, string Prompt, string Reference, GenerationRequest Request)
{
    /// <summary>The prompt as OpenCompass's template rounds (HUMAN/BOT/SYSTEM), which a chat protocol turns into
    /// messages; null = one HUMAN round holding <see cref="Prompt"/>. <see cref="Prompt"/> is the base-model form
    /// (rounds joined by "\n").</summary>
    public IReadOnlyList<PromptRound>? Rounds { get; init; }
}

/// <summary>One round of an OpenCompass prompt template: role HUMAN, BOT or SYSTEM, and its text.</summary>
public sealed record PromptRound(string Role, string Text)
{
    public static PromptRound Human(string text) => new("HUMAN", text);
    public static PromptRound Bot(string text) => new("BOT", text);
}

/// <summary>One scored sample, as written to RUN_DIR/&lt;task&gt;.jsonl (one JSON object per line).</summary>
public sealed record SampleRecord
{
    public required string Task { get; init; }
    public required string Subset { get; init; }
    public required string Id { get; init; }
    public required int Index { get; init; }
    public required string Prompt { get; init; }
    public required string Output { get; init; }
    public required string Extracted { get; init; }
    public required string Reference { get; init; }
    /// <summary>The sample's score in [0, 1] (1 = correct); averaged ×100 into the task's score.</summary>
    public required double Score { get; init; }
    /// <summary>Extra per-sample metrics (TruthfulQA's bleu_max/bleu_diff/bleu_acc, say).</summary>
    public Dictionary<string, double>? Metrics { get; init; }
}

/// <summary>A task's result: its headline score (0–100, as OpenCompass prints it), per-subset scores and extra metrics.</summary>
public sealed record TaskSummary(string Task, double Score, int Samples, IReadOnlyDictionary<string, double> Subsets,
    IReadOnlyDictionary<string, double> Metrics);
