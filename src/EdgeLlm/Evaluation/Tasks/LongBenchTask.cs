using System.Text.Json;
using EdgeLlm.Evaluation.Metrics;

namespace EdgeLlm.Evaluation.Tasks;

/// <summary>
/// LongBench (THUDM/LongBench's published data/&lt;subset&gt;.jsonl: input, context, answers, length,
/// dataset, language, all_classes, _id) with OpenCompass's per-subset prompts, output lengths and
/// evaluators. Prompts longer than <c>maxInputTokens − max_out_len</c> keep their first and last halves
/// (LongBench's middle truncation). Subsets whose file is absent are skipped; the LongBench score is the
/// mean of the subsets scored.
/// </summary>
public sealed class LongBenchTask(string dataFolder, int maxInputTokens = 2048, IReadOnlyList<string>? subsets = null) : IEvaluationTask
{
    public sealed record Reference(List<string> Answers, List<string> AllClasses);

    public string Name => "longbench";

    private IEnumerable<LongBenchSubset> Selected =>
        LongBenchSubsets.All.Where(s => subsets == null || subsets.Contains(s.Name));

    /// <summary>
    /// The task over <paramref name="dataFolder"/>, which must hold at least one selected subset's file: with none, every
    /// LongBench score would be an average over nothing, so a missing folder is an error before any other task runs.
    /// </summary>
    public static LongBenchTask Open(string dataFolder, int maxInputTokens = 2048, IReadOnlyList<string>? subsets = null)
    {
        var task = new LongBenchTask(dataFolder, maxInputTokens, subsets);
        var expected = task.Selected.Select(s => Path.Combine(dataFolder, s.Name + ".jsonl")).ToList();
        if (!expected.Any(File.Exists))
            throw new FileNotFoundException($"{dataFolder}: no LongBench data (none of its {expected.Count} subset files, such as " +
                $"{Path.GetFileName(expected[0])}, is there); put LongBench's data/*.jsonl there or leave longbench out of --tasks", expected[0]);
        return task;
    }

    public IReadOnlyList<EvalSample> LoadSamples()
    {
        var samples = new List<EvalSample>();
        foreach (var subset in Selected)
        {
            var file = Path.Combine(dataFolder, subset.Name + ".jsonl");
            if (!File.Exists(file)) continue;
            var request = new GenerationRequest(subset.MaxNewTokens, [], Math.Max(2, maxInputTokens - subset.MaxNewTokens), TruncateMiddle: true);
            foreach (var (line, item) in DatasetFiles.JsonLines(file))
            {
                var context = DatasetFiles.Text(item, "context", file, line);
                var input = DatasetFiles.Text(item, "input", file, line);
                var answers = DatasetFiles.Strings(DatasetFiles.Field(item, "answers", file, line, JsonValueKind.Array), file, line);
                var classes = item.TryGetProperty("all_classes", out var c) && c.ValueKind == JsonValueKind.Array ? DatasetFiles.Strings(c, file, line) : [];
                var id = item.TryGetProperty("_id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : $"line{line}";
                samples.Add(new EvalSample($"longbench/{subset.Name}/{id}", subset.Name, LongBenchSubsets.Fill(subset.Prompt, context, input),
                    JsonSerializer.Serialize(new Reference(answers, classes)), request));
            }
        }
        return samples;
    }

    public static double ScoreOutput(LongBenchSubset subset, string output, Reference reference) => subset.Metric switch
    {
        LongBenchMetric.QaF1English => LongBenchMetrics.QaF1English(output, reference.Answers),
        LongBenchMetric.QaF1Chinese => LongBenchMetrics.QaF1Chinese(output, reference.Answers),
        LongBenchMetric.Classification => LongBenchMetrics.Classification(output, reference.Answers, reference.AllClasses),
        LongBenchMetric.RetrievalEnglish => LongBenchMetrics.Retrieval(output, reference.Answers, chinese: false),
        LongBenchMetric.RetrievalChinese => LongBenchMetrics.Retrieval(output, reference.Answers, chinese: true),
        LongBenchMetric.Count => LongBenchMetrics.Count(output, reference.Answers),
        LongBenchMetric.RougeEnglish => LongBenchMetrics.RougeEnglish(output, reference.Answers),
        LongBenchMetric.RougeChinese => LongBenchMetrics.RougeChinese(output, reference.Answers),
        LongBenchMetric.CodeSimilarity => LongBenchMetrics.CodeSimilarity(output, reference.Answers),
        _ => throw new NotSupportedException(subset.Metric.ToString()),
    };

    /// <summary>The subset's prediction post-processing (samsum, trec, lsht, triviaqa: the first line after leading newlines).</summary>
    public static string Extract(LongBenchSubset subset, string output) =>
        subset.FirstLineOnly ? OpenCompassPostprocessors.FirstLine(output) : output;

    public SampleRecord Score(EvalSample sample, int index, string output)
    {
        var subset = LongBenchSubsets.All.Single(s => s.Name == sample.Subset);
        var extracted = Extract(subset, output);
        var reference = JsonSerializer.Deserialize<Reference>(sample.Reference)!;
        return Records.Make(Name, sample, index, output, extracted, ScoreOutput(subset, extracted, reference));
    }

    public TaskSummary Summarize(IReadOnlyList<SampleRecord> records) => Summaries.MeanOfSubsets(Name, records);
}
