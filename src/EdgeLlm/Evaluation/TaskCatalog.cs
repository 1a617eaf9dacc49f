using EdgeLlm.Evaluation.Tasks;

namespace EdgeLlm.Evaluation;

/// <summary>
/// The seven challenge tasks by name, reading their data from a datasets folder laid out like ../shared/datasets.
/// Where the published JSON-lines/CSV file is absent, CommonsenseQA, GSM8K and TruthfulQA read the Hub's
/// parquet in the Hub's layout inside the same folder (e.g. commonsenseqa/data/validation-00000-of-00001.parquet).
/// </summary>
public static class TaskCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["csqa", "bbh", "gsm8k", "longbench", "humaneval", "truthfulqa", "chid"];

    /// <remarks>maxInputTokens: OpenCompass's max_seq_len for LongBench truncation.</remarks>
    public static IEvaluationTask Create(string name, string datasets, int maxInputTokens = 2048) => name switch
    {
        "csqa" => new CommonsenseQaTask(PublishedOrParquet(Path.Combine(datasets, "commonsenseqa"), "dev_rand_split.jsonl", "data", "validation-")),
        "bbh" => new BbhTask(Path.Combine(datasets, "bbh", "bbh"), Path.Combine(datasets, "bbh", "cot-prompts")),
        "gsm8k" => new Gsm8kTask(PublishedOrParquet(Path.Combine(datasets, "gsm8k"), "test.jsonl", "main", "test-")),
        "longbench" => new LongBenchTask(Path.Combine(datasets, "longbench", "data"), maxInputTokens),
        "humaneval" => new HumanEvalTask(Path.Combine(datasets, "humaneval", "HumanEval.jsonl.gz")),
        "truthfulqa" => new TruthfulQaTask(PublishedOrParquet(Path.Combine(datasets, "truthfulqa"), "TruthfulQA.csv", "generation", "validation-")),
        "chid" => new ChidTask(Path.Combine(datasets, "chid")),
        _ => throw new ArgumentException($"Unknown task '{name}'; known: {string.Join(", ", Names)}."),
    };

    // folder/published if it exists, else the single folder/subfolder/prefix*.parquet; the published path
    // (for the not-found error) when neither is there.
    private static string PublishedOrParquet(string folder, string published, string subfolder, string prefix)
    {
        var path = Path.Combine(folder, published);
        var parquetFolder = Path.Combine(folder, subfolder);
        if (File.Exists(path) || !Directory.Exists(parquetFolder)) return path;
        var shards = Directory.GetFiles(parquetFolder, prefix + "*.parquet").Order(StringComparer.Ordinal).ToList();
        if (shards.Count > 1) throw new NotSupportedException($"{parquetFolder} holds {shards.Count} parquet shards; EdgeLlm reads one file per task.");
        return shards.Count == 1 ? shards[0] : path;
    }
}
