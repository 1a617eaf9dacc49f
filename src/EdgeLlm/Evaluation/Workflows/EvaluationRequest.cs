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

    public IReadOnlyList<string> TaskNames => Tasks ?? Protocol.DefaultTasks;
}
