using System.Text;
using EdgeLlm.Evaluation.Workflows;
using EdgeLlm.Tokenization.ChatTemplates;

namespace EdgeLlm.Evaluation.Ranking;

/// <summary>One row of the starting kit's Results.csv; null = not measured (an empty cell, as pandas writes NaN).</summary>
public sealed record KitResults(double? CommonsenseQa, double? BigBenchHard, double? Gsm8k, double? LongBench, double? HumanEval,
    double? Chid, double? TruthfulQa, double? Throughput, double? MemoryUsage);

/// <summary>
/// The submission CSV of the starting kit (Generate_CSV.py at b5aca58): the header CommonsenseQA, BIG-Bench-Hard,
/// GSM8K, LongBench, HumanEval, CHID, TruthfulQA, Throughput, Memory-Usage in that order, one row, no index column,
/// numbers as Python prints them (pandas' to_csv).
/// </summary>
public static class KitResultsCsv
{
    public static IReadOnlyList<string> Columns { get; } =
        ["CommonsenseQA", "BIG-Bench-Hard", "GSM8K", "LongBench", "HumanEval", "CHID", "TruthfulQA", "Throughput", "Memory-Usage"];

    /// <summary>
    /// The task columns from an eval summary: CHID is its chid-test subset (the kit's table reports chid-test), the
    /// others are the task's headline score (TruthfulQA's bleu_acc is 0–1 under edge-llm-2024, as in the kit's table).
    /// </summary>
    public static KitResults FromSummary(EvaluationSummary summary, double? throughput, double? memoryUsageGb)
    {
        double? Score(string task) => summary.Tasks.TryGetValue(task, out var t) ? t.Score : null;
        double? chid = summary.Tasks.TryGetValue("chid", out var c) ? c.Subsets.TryGetValue("chid-test", out var test) ? test : c.Score : null;
        return new KitResults(Score("csqa"), Score("bbh"), Score("gsm8k"), Score("longbench"), Score("humaneval"), chid, Score("truthfulqa"),
            throughput, memoryUsageGb);
    }

    public static string Format(KitResults r)
    {
        double?[] values = [r.CommonsenseQa, r.BigBenchHard, r.Gsm8k, r.LongBench, r.HumanEval, r.Chid, r.TruthfulQa, r.Throughput, r.MemoryUsage];
        foreach (var v in values)
            if (v is double d && !double.IsFinite(d)) throw new ArgumentException($"Results.csv value {d} is not a finite number");
        return string.Join(",", Columns) + "\n" + string.Join(",", values.Select(v => v is double d ? TemplateValues.FloatRepr(d) : "")) + "\n";
    }

    /// <summary>Writes the CSV under a temporary name, then renames it into place.</summary>
    public static void Write(string path, KitResults results)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, Format(results), new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }
}
