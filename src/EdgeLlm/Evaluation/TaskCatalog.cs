using EdgeLlm.Evaluation.Protocols;
using EdgeLlm.Evaluation.Tasks;

namespace EdgeLlm.Evaluation;

/// <summary>
/// The seven challenge tasks by name, reading their data from a datasets folder laid out like ../shared/datasets.
/// Where the published JSON-lines/CSV file is absent, CommonsenseQA, GSM8K and TruthfulQA read the Hub's
/// parquet in the Hub's layout inside the same folder (e.g. commonsenseqa/data/validation-00000-of-00001.parquet).
/// </summary>
public static class TaskCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["csqa", "bbh", "gsm8k", "longbench", "humaneval", "truthfulqa", "chid", "mmlu", "ceval"];

    // --max-out-len's default in OpenCompass 0.3.1's CLI, which --hf-type base runs used (no config of theirs sets one for MMLU/C-Eval).
    private const int BaseCliMaxOutLen = 256;

    /// <summary>The tasks as <paramref name="protocol"/> runs them (its dataset configs and max_out_len rules).</summary>
    /// <remarks>maxInputTokens: OpenCompass's max_seq_len for LongBench truncation.</remarks>
    public static IEvaluationTask Create(string name, string datasets, EvaluationProtocol protocol, int maxInputTokens = 2048)
    {
        if (protocol.Style == PromptStyle.Base) return Create(name, datasets, maxInputTokens);
        // A dataset config's own max_out_len wins over the CLI's (openicl_infer.py _set_default_value fills only missing keys).
        int cli = protocol.CliMaxOutLen;
        return name switch
        {
            "csqa" => new CommonsenseQaCotTask(PublishedOrParquet(Path.Combine(datasets, "commonsenseqa"), "dev_rand_split.jsonl", "data", "validation-"), cli),
            "chid" => new ChidTask(Path.Combine(datasets, "chid"), cli),
            "truthfulqa" => new TruthfulQaTask(PublishedOrParquet(Path.Combine(datasets, "truthfulqa"), "TruthfulQA.csv", "generation", "validation-"), cli, scoreAsFraction: true),
            "mmlu" => new MmluTask(Path.Combine(datasets, "mmlu", "data"), cli),
            "ceval" => new CevalTask(Path.Combine(datasets, "ceval"), cli),
            _ => Create(name, datasets, maxInputTokens),
        };
    }

    /// <summary>The OpenCompass 0.3.1 dataset config a task reproduces under a protocol.</summary>
    public static string ConfigOf(string name, EvaluationProtocol protocol) => (name, protocol.Style) switch
    {
        ("csqa", PromptStyle.Chat) => "commonsenseqa_7shot_cot_gen_734a22",
        ("csqa", _) => "commonsenseqa_gen_c946f2 (zero-shot: no MDLRetriever examples)",
        ("bbh", _) => "bbh_gen_5b92b0",
        ("gsm8k", _) => "gsm8k_gen_1d7fe4",
        ("longbench", _) => "longbench (longbench_*_gen per subset)",
        ("humaneval", _) => "humaneval_gen_8e312c",
        ("truthfulqa", _) => "truthfulqa_gen_5ddc62 (metrics=bleu)",
        ("chid", _) => "FewCLUE_chid_gen_0a29a2",
        ("mmlu", _) => "mmlu_gen_4d595a",
        ("ceval", _) => "ceval_gen_5f30c7 (val split)",
        _ => throw new ArgumentException($"Unknown task '{name}'; known: {string.Join(", ", Names)}."),
    };

    /// <summary>The tasks of the early kit (--hf-type base), as <see cref="EvaluationProtocols.KitBase2024"/> runs them.</summary>
    /// <remarks>maxInputTokens: OpenCompass's max_seq_len for LongBench truncation.</remarks>
    public static IEvaluationTask Create(string name, string datasets, int maxInputTokens = 2048) => name switch
    {
        "csqa" => new CommonsenseQaTask(PublishedOrParquet(Path.Combine(datasets, "commonsenseqa"), "dev_rand_split.jsonl", "data", "validation-")),
        "bbh" => new BbhTask(Path.Combine(datasets, "bbh", "bbh"), Path.Combine(datasets, "bbh", "cot-prompts")),
        "gsm8k" => new Gsm8kTask(PublishedOrParquet(Path.Combine(datasets, "gsm8k"), "test.jsonl", "main", "test-")),
        "longbench" => LongBenchTask.Open(Path.Combine(datasets, "longbench", "data"), maxInputTokens),
        "humaneval" => new HumanEvalTask(Path.Combine(datasets, "humaneval", "HumanEval.jsonl.gz")),
        "truthfulqa" => new TruthfulQaTask(PublishedOrParquet(Path.Combine(datasets, "truthfulqa"), "TruthfulQA.csv", "generation", "validation-")),
        "chid" => new ChidTask(Path.Combine(datasets, "chid")),
        "mmlu" => new MmluTask(Path.Combine(datasets, "mmlu", "data"), BaseCliMaxOutLen),
        "ceval" => new CevalTask(Path.Combine(datasets, "ceval"), BaseCliMaxOutLen),
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
