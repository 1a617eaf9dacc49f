using System.Text.Json.Nodes;
using EdgeLlm.Analysis.Tables;
using EdgeLlm.Checkpoints;
using Microsoft.Data.Analysis;

namespace EdgeLlm.Analysis.Store;

/// <summary>What <see cref="Submission.Write"/> produced.</summary>
public sealed record SubmissionResult(string Directory, string ResultsCsv, string ManifestJson, long? Parameters, IReadOnlyList<string> ModelFiles);

/// <summary>
/// The challenge submission built from one run of a results store (Edge-Device LLM Competition style):
/// <c>results.csv</c> has one row with the columns model, method, ratio, parameters, one column per task score
/// (named after the task, in the order CommonsenseQA, BIG-Bench-Hard, GSM8K, HumanEval, CHID, TruthfulQA, then any
/// other task alphabetically), average (empty when the run mixes TruthfulQA, whose bleu_acc is 0–1, with tasks scored
/// 0–100: an average across scales means nothing; the challenge itself never averages across tasks, it ranks within each), tpot_ms, throughput_tokens_per_s, memory_gb; <c>submission.json</c> adds the
/// parameter count and the model files (name, bytes) when the model folder is given.
/// </summary>
public static class Submission
{
    public static readonly string[] TaskOrder = ["commonsenseqa", "csqa", "bbh", "gsm8k", "humaneval", "chid", "truthfulqa"];

    /// <summary>True when TruthfulQA (0–1 under edge-llm-2024) sits beside a task scored 0–100.</summary>
    public static bool MixesScales(IReadOnlyCollection<string> tasks) =>
        tasks.Any(t => t.Equals("truthfulqa", StringComparison.OrdinalIgnoreCase)) && tasks.Any(t => !t.Equals("truthfulqa", StringComparison.OrdinalIgnoreCase));

    public static SubmissionResult Write(ResultsStore store, long runId, string outDir, string? modelDirectory = null)
    {
        var run = store.Runs().Filter(r => r.GetLong("run_id") == runId);
        if (run.Rows.Count == 0) throw new ArgumentException($"results store '{store.Path}' has no run {runId}");
        var info = run.Rows[0];
        var scores = store.TaskScores().Filter(r => r.GetLong("run_id") == runId).Aggregate(["task"], Agg.Mean("score"));
        if (scores.Rows.Count == 0) throw new InvalidOperationException($"run {runId} in '{store.Path}' has no task scores to submit");
        var tasks = scores.Strings("task").OrderBy(t => Array.IndexOf(TaskOrder, t.ToLowerInvariant()) is var i && i >= 0 ? i : TaskOrder.Length)
            .ThenBy(t => t, StringComparer.Ordinal).ToList();
        var throughput = store.Throughput().Filter(r => r.GetLong("run_id") == runId);
        var memory = store.Memory().Filter(r => r.GetLong("run_id") == runId && r.GetString("kind") == "peak_rss" && !r.GetBool("predicted"));
        var files = modelDirectory is null ? [] : Directory.EnumerateFiles(modelDirectory).Order(StringComparer.Ordinal).ToList();

        var taskValues = tasks.Select(t => scores.Filter(r => r.GetString("task") == t).Rows[0].GetDouble("score")).ToList();
        static DoubleDataFrameColumn One(string name, double? value) => new(name, [value]);
        var columns = new List<DataFrameColumn>
        {
            new StringDataFrameColumn("model", [info.GetString("model")]), new StringDataFrameColumn("method", [info.GetString("method")]),
            One("ratio", info.GetDouble("ratio")), new Int64DataFrameColumn("parameters", [info.IsNull("parameters") ? null : info.GetLong("parameters")]),
        };
        columns.AddRange(tasks.Select((t, i) => One(t, taskValues[i])));
        columns.Add(One("average", MixesScales(tasks) ? null : taskValues.Average()));
        columns.Add(One("tpot_ms", throughput.Rows.Count == 0 ? null : throughput.Doubles("tpot_ms").Average()));
        columns.Add(One("throughput_tokens_per_s", throughput.Rows.Count == 0 ? null : throughput.Doubles("decode_tokens_per_second").Average()));
        columns.Add(One("memory_gb", memory.Rows.Count == 0 ? null : memory.Doubles("bytes").Max() / 1e9));
        var table = new DataFrame(columns);

        Directory.CreateDirectory(outDir);
        var csv = Path.Combine(outDir, "results.csv");
        var manifest = Path.Combine(outDir, "submission.json");
        table.SaveCsv(csv);
        var json = new JsonObject
        {
            ["run_id"] = runId, ["run_key"] = info.GetString("run_key"), ["model"] = info.GetString("model"),
            ["method"] = info.GetString("method"), ["ratio"] = info.GetDouble("ratio"),
            ["parameters"] = info.IsNull("parameters") ? null : info.GetLong("parameters"),
            ["results_csv"] = "results.csv",
            ["model_files"] = new JsonArray(files.Select(f => (JsonNode)new JsonObject { ["name"] = Path.GetFileName(f), ["bytes"] = new FileInfo(f).Length }).ToArray()),
        };
        AtomicFile.WriteAllText(manifest, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return new SubmissionResult(outDir, csv, manifest, info.IsNull("parameters") ? null : info.GetLong("parameters"), files.Select(Path.GetFileName).ToList()!);
    }
}
