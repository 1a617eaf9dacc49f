namespace EdgeLlm.Evaluation.Workflows;

/// <summary>The schema of RUN_DIR/summary.json (snake_case on disk): what was run and each task's scores.</summary>
/// <remarks>ChatTemplate: where the template came from ("tokenizer_config.json", a file path) or null for a base protocol.
/// MaxBatch: the most samples generated at once (continuous batching); scores do not depend on it. It is not OpenCompass's
/// batch_size (prompts padded together on the left), which the engine has no need of.</remarks>
public sealed record EvaluationSummary(
    string Model,
    string ModelFingerprint,
    string Protocol,
    string PromptStyle,
    string? ChatTemplate,
    IReadOnlyList<string> StopWords,
    string Shard,
    int? Limit,
    IReadOnlyDictionary<string, TaskScores> Tasks,
    int? MaxBatch = null);

/// <summary>One task in summary.json: the config it reproduces, its scores over every record in the folder, and this call's work.</summary>
/// <remarks>Score: OpenCompass's headline (0–100; TruthfulQA's bleu_acc 0–1 under edge-llm-2024).</remarks>
public sealed record TaskScores(
    string Config,
    double Score,
    int Samples,
    IReadOnlyDictionary<string, double> Subsets,
    IReadOnlyDictionary<string, double> Metrics,
    int NewSamples,
    int Skipped,
    double SamplesPerSecond);
