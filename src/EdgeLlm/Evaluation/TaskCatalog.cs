using EdgeLlm.Evaluation.Tasks;

namespace EdgeLlm.Evaluation;

/// <summary>The seven challenge tasks by name, reading their data from a datasets folder laid out like ../shared/datasets.</summary>
public static class TaskCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["csqa", "bbh", "gsm8k", "longbench", "humaneval", "truthfulqa", "chid"];

    /// <remarks>maxInputTokens: OpenCompass's max_seq_len for LongBench truncation.</remarks>
    public static IEvaluationTask Create(string name, string datasets, int maxInputTokens = 2048) => name switch
    {
        "csqa" => new CommonsenseQaTask(Path.Combine(datasets, "commonsenseqa", "dev_rand_split.jsonl")),
        "bbh" => new BbhTask(Path.Combine(datasets, "bbh", "bbh"), Path.Combine(datasets, "bbh", "cot-prompts")),
        "gsm8k" => new Gsm8kTask(Path.Combine(datasets, "gsm8k", "test.jsonl")),
        "longbench" => new LongBenchTask(Path.Combine(datasets, "longbench", "data"), maxInputTokens),
        "humaneval" => new HumanEvalTask(Path.Combine(datasets, "humaneval", "HumanEval.jsonl.gz")),
        "truthfulqa" => new TruthfulQaTask(Path.Combine(datasets, "truthfulqa", "TruthfulQA.csv")),
        "chid" => new ChidTask(Path.Combine(datasets, "chid")),
        _ => throw new ArgumentException($"Unknown task '{name}'; known: {string.Join(", ", Names)}."),
    };
}
