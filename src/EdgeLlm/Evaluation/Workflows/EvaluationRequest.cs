using EdgeLlm.Evaluation.Protocols;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Inference;

namespace EdgeLlm.Evaluation.Workflows;

/// <summary>What to evaluate and how: a model folder, a run folder, a protocol and its tasks, the data, and the run's slice.</summary>
/// <remarks>Tasks: null = the protocol's default list. ChatTemplateFile: a .jinja file to use instead of the tokenizer's
/// chat_template (needed for a chat protocol when the model has none, e.g. Phi-2). MaxSeqLen: LongBench's truncation length
/// (and, with 512 new tokens, the longest sequence the automatic batch size plans for).</remarks>
public sealed record EvaluationRequest
{
    public required string ModelFolder { get; init; }
    public required string RunFolder { get; init; }
    public required string DatasetsFolder { get; init; }
    public EvaluationProtocol Protocol { get; init; } = EvaluationProtocols.Default;
    public IReadOnlyList<string>? Tasks { get; init; }
    public string? ChatTemplateFile { get; init; }
    public int? Limit { get; init; }
    public Shard Shard { get; init; } = Shard.Whole;
    /// <summary>The most samples generated at once (continuous batching: <see cref="EdgeLlm.Inference.BatcherOptions.MaxBatch"/>);
    /// null = chosen from the memory free once the model is loaded (<see cref="EdgeLlm.Profiling.BatchSizing"/>). Outputs do not depend on it.</summary>
    public int? MaxBatch { get; init; }
    /// <summary>A sample whose prompt starts with at least this many tokens of one in flight takes them from its cache
    /// (<see cref="EdgeLlm.Inference.BatcherOptions.SharedPrefixMinTokens"/>); 0 turns it off. Outputs do not depend on it beyond float rounding.</summary>
    public int SharedPrefixMinTokens { get; init; } = new BatcherOptions().SharedPrefixMinTokens;
    public int MaxSeqLen { get; init; } = 2048;

    /// <summary>How the engine runs the model (its device); null = the CPU engine.</summary>
    public EngineOptions? Engine { get; init; }

    /// <summary>All (default): generate and score; Infer: only generate, into predictions; Score: only score the predictions, without the model's weights.</summary>
    public EvaluationMode Mode { get; init; } = EvaluationMode.All;

    public IReadOnlyList<string> TaskNames => Tasks ?? Protocol.DefaultTasks;
}

/// <summary>
/// What an evaluation call does, as OpenCompass's --mode all | infer | eval: generating and scoring can run apart, e.g.
/// HumanEval generated on a GPU machine and its programs run where the sandbox is.
/// </summary>
public enum EvaluationMode
{
    /// <summary>Generate what has no record and no prediction, score everything (predictions left by Infer included).</summary>
    All,
    /// <summary>Generate what has no record and no prediction into RUN_DIR/predictions; score nothing (no sandbox needed).</summary>
    Infer,
    /// <summary>Score the predictions; the model folder needs its config and tokenizer only, and no weights are loaded.</summary>
    Score,
}
