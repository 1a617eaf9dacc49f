using System.Text.Json;
using EdgeLlm.Evaluation.Metrics;

namespace EdgeLlm.Evaluation.Tasks;

/// <summary>
/// CommonsenseQA as OpenCompass's commonsenseqa_gen (commonsenseqa_gen_c946f2), on the validation split
/// (dev_rand_split.jsonl): "{question}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\nE. {E}\nAnswer:", generation
/// (the CLI's default max_out_len, 256), first_capital_postprocess, accuracy.
/// DELIBERATE DIFFERENCE: OpenCompass picks 8 in-context examples from the train split with its
/// MDLRetriever (a model-scored search over random candidate sets); the train split is not available
/// here, so the prompt is zero-shot. Reads JSON lines in the original layout (question.stem /
/// question.choices) or the Hub's (question / choices.text), and the Hub's parquet (same columns).
/// </summary>
public sealed class CommonsenseQaTask(string validationFile, int maxNewTokens = 256) : IEvaluationTask
{
    public string Name => "csqa";

    public static string BuildPrompt(string question, IReadOnlyList<string> choices) =>
        $"{question}\nA. {choices[0]}\nB. {choices[1]}\nC. {choices[2]}\nD. {choices[3]}\nE. {choices[4]}\nAnswer:";

    public IReadOnlyList<EvalSample> LoadSamples()
    {
        var request = new GenerationRequest(maxNewTokens, []);
        return ReadRows(validationFile).Select((row, i) =>
            new EvalSample($"csqa/{i}", "commonsense_qa", BuildPrompt(row.Question, row.Choices), row.Answer, request)).ToList();
    }

    /// <summary>The validation rows (question, five choices, answer key) of the JSON-lines file or the Hub's parquet.</summary>
    internal static List<(int Line, string Question, List<string> Choices, string Answer)> ReadRows(string validationFile)
    {
        var reader = new CommonsenseQaTask(validationFile);
        var rows = ParquetFile.IsParquet(validationFile) ? reader.ParquetRows()
            : DatasetFiles.JsonLines(validationFile).Select(item =>
            {
                var (question, choices) = reader.Read(item.Value, item.Line);
                return (Line: item.Line, Question: question, Choices: choices, Answer: DatasetFiles.Text(item.Value, "answerKey", validationFile, item.Line));
            });
        var list = rows.ToList();
        foreach (var row in list)
            if (row.Choices.Count != 5) throw new DatasetFormatException(validationFile, row.Line, $"expected 5 choices, found {row.Choices.Count}");
        return list;
    }

    private IEnumerable<(int Line, string Question, List<string> Choices, string Answer)> ParquetRows() =>
        ParquetFile.Read<CommonsenseQaParquetRow>(validationFile, "question", "choices/text", "answerKey").Select(r =>
            (r.Row, r.Value.Question ?? throw Null(r.Row, "question"), r.Value.Choices?.Text ?? throw Null(r.Row, "choices.text"),
             r.Value.AnswerKey ?? throw Null(r.Row, "answerKey")));

    private DatasetFormatException Null(int row, string column) => new(validationFile, row, $"row {row} has no value in column '{column}'");

    private (string Question, List<string> Choices) Read(JsonElement item, int line)
    {
        if (item.TryGetProperty("question", out var q) && q.ValueKind == JsonValueKind.Object)
        {
            var stem = DatasetFiles.Text(q, "stem", validationFile, line);
            var choices = DatasetFiles.Field(q, "choices", validationFile, line, JsonValueKind.Array).EnumerateArray()
                .Select(c => DatasetFiles.Text(c, "text", validationFile, line)).ToList();
            return (stem, choices);
        }
        var question = DatasetFiles.Text(item, "question", validationFile, line);
        var hub = DatasetFiles.Field(item, "choices", validationFile, line, JsonValueKind.Object);
        return (question, DatasetFiles.Strings(DatasetFiles.Field(hub, "text", validationFile, line, JsonValueKind.Array), validationFile, line));
    }

    public SampleRecord Score(EvalSample sample, int index, string output)
    {
        var extracted = OpenCompassPostprocessors.FirstCapital(output);
        return Records.Make(Name, sample, index, output, extracted, extracted == sample.Reference ? 1 : 0);
    }

    public TaskSummary Summarize(IReadOnlyList<SampleRecord> records) => Summaries.MeanOfSubsets(Name, records);
}
