namespace EdgeLlm.Hub;

/// <summary>Where a dataset's published files live.</summary>
public abstract record DatasetOrigin;

/// <summary>A Hub dataset repo; files are checked against the sizes and hashes the Hub lists.</summary>
public sealed record HubDatasetOrigin(string RepoId, string Revision = "main") : DatasetOrigin;

/// <summary>A GitHub repository, read through raw file URLs at <paramref name="Ref"/>.</summary>
public sealed record GitHubOrigin(string Owner, string Repo, string Ref) : DatasetOrigin;

/// <summary>A catalogued dataset. DefaultFiles is what is fetched when the user names no files (paths, or globs
/// for Hub repos). KnownSha256 holds hashes of files as their authors published them, checked on download; other
/// files get their SHA-256 recorded on first download and checked on reuse.</summary>
public sealed record DatasetEntry(string Name, string[] Aliases, DatasetOrigin Origin, string[] DefaultFiles,
    IReadOnlyDictionary<string, string> KnownSha256, string Notes);

/// <summary>The datasets EdgeLlm's evaluations and calibration use, by the names people call them.</summary>
public static class DatasetCatalog
{
    private static readonly Dictionary<string, string> noHashes = new();

    private static readonly string[] bbhTasks =
    [
        "boolean_expressions", "causal_judgement", "date_understanding", "disambiguation_qa", "dyck_languages",
        "formal_fallacies", "geometric_shapes", "hyperbaton", "logical_deduction_five_objects",
        "logical_deduction_seven_objects", "logical_deduction_three_objects", "movie_recommendation",
        "multistep_arithmetic_two", "navigate", "object_counting", "penguins_in_a_table",
        "reasoning_about_colored_objects", "ruin_names", "salient_translation_error_detection", "snarks",
        "sports_understanding", "temporal_sequences", "tracking_shuffled_objects_five_objects",
        "tracking_shuffled_objects_seven_objects", "tracking_shuffled_objects_three_objects", "web_of_lies", "word_sorting",
    ];

    public static IReadOnlyList<DatasetEntry> All { get; } =
    [
        new("allenai/c4", ["c4"], new HubDatasetOrigin("allenai/c4"),
            ["en/c4-train.00000-of-01024.json.gz", "en/c4-validation.00000-of-00008.json.gz"], noHashes,
            "Shards are named en/c4-train.NNNNN-of-01024.json.gz and en/c4-validation.NNNNN-of-00008.json.gz; ask for the ones you need."),
        new("gsm8k", ["openai/gsm8k"], new GitHubOrigin("openai", "grade-school-math", "master"),
            ["grade_school_math/data/test.jsonl", "grade_school_math/data/train.jsonl"],
            new Dictionary<string, string>
            {
                ["grade_school_math/data/test.jsonl"] = "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14",
                ["grade_school_math/data/train.jsonl"] = "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465",
            },
            "Hashes are those of the files at commit 3101c7d; the branch name 'master' was not checked."),
        new("openai_humaneval", ["humaneval", "openai/openai_humaneval"], new GitHubOrigin("openai", "human-eval", "master"),
            ["data/HumanEval.jsonl.gz"],
            new Dictionary<string, string> { ["data/HumanEval.jsonl.gz"] = "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef" },
            "Hash is that of the file at commit 6d43fb9; the branch name 'master' was not checked."),
        new("bbh", ["big_bench_hard", "lukaemon/bbh"], new GitHubOrigin("suzgunmirac", "BIG-Bench-Hard", "main"),
            [.. bbhTasks.Select(t => $"bbh/{t}.json"), .. bbhTasks.Select(t => $"cot-prompts/{t}.txt")], noHashes,
            "27 tasks as published at commit 9ee07bd; the branch name 'main' was not checked."),
        new("truthful_qa", ["truthfulqa"], new GitHubOrigin("sylinrl", "TruthfulQA", "main"),
            ["TruthfulQA.csv"], noHashes, "The CSV was revised upstream over time, so no hash is pinned; the branch name 'main' was not checked."),
        new("commonsense_qa", ["commonsenseqa", "tau/commonsense_qa"], new HubDatasetOrigin("tau/commonsense_qa"),
            ["data/validation-*.parquet"], noHashes,
            "The parquet file names under data/ could not be confirmed, hence the glob matched against the Hub's file list."),
        new("chid", ["fewclue/chid"], new GitHubOrigin("CLUEbenchmark", "FewCLUE", "main"),
            ["datasets/chid/dev_few_all.json", "datasets/chid/train_few_all.json", "datasets/chid/test_public.json"], noHashes,
            "Files as at commit 62a02c6; the branch name 'main' was not checked."),
        new("longbench", ["THUDM/LongBench", "zai-org/LongBench"], new HubDatasetOrigin("THUDM/LongBench"),
            ["data.zip"], noHashes, "All tasks ship in one data.zip of JSON-lines files (data/{task}.jsonl)."),
    ];

    public static DatasetEntry? Find(string name) =>
        All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase)
                                || e.Aliases.Any(a => string.Equals(a, name, StringComparison.OrdinalIgnoreCase)));
}
