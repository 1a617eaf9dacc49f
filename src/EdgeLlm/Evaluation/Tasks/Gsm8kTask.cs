using EdgeLlm.Evaluation.Metrics;

namespace EdgeLlm.Evaluation.Tasks;

/// <summary>
/// GSM8K as OpenCompass's gsm8k_gen (gsm8k_gen_1d7fe4): the config's four worked examples, each
/// "Question: …\nLet's think step by step\nAnswer:" then its solution, rounds joined by "\n" (the
/// base-model template parser); generation up to 512 tokens; gsm8k_postprocess / Gsm8kEvaluator.
/// Generation stops at "Question:" — gsm8k_postprocess drops everything from there, so the extracted
/// answer is the same and the tokens after it are not worth computing. Reads the published test.jsonl or
/// the Hub's parquet (config "main": question, answer).
/// </summary>
public sealed class Gsm8kTask(string testFile) : IEvaluationTask
{
    public string Name => "gsm8k";

    public IReadOnlyList<EvalSample> LoadSamples()
    {
        var request = new GenerationRequest(512, ["Question:"]);
        var rows = ParquetFile.IsParquet(testFile)
            ? ParquetFile.Read<Gsm8kParquetRow>(testFile, "question", "answer").Select(r =>
                (Line: r.Row, Question: r.Value.Question ?? throw Null(r.Row, "question"), Answer: r.Value.Answer ?? throw Null(r.Row, "answer")))
            : DatasetFiles.JsonLines(testFile).Select(item =>
                (Line: item.Line, Question: DatasetFiles.Text(item.Value, "question", testFile, item.Line), Answer: DatasetFiles.Text(item.Value, "answer", testFile, item.Line)));
        return rows.Select((row, i) =>
        {
            if (!row.Answer.Contains("#### ")) throw new DatasetFormatException(testFile, row.Line, "answer has no '#### ' line");
            return new EvalSample($"gsm8k/{i}", "gsm8k", Gsm8kPrompt.Build(row.Question), OpenCompassPostprocessors.Gsm8kReference(row.Answer), request)
                { Rounds = Gsm8kPrompt.Rounds(row.Question) };
        }).ToList();
    }

    private DatasetFormatException Null(int row, string column) => new(testFile, row, $"row {row} has no value in column '{column}'");

    public SampleRecord Score(EvalSample sample, int index, string output)
    {
        var extracted = OpenCompassPostprocessors.Gsm8kPrediction(output);
        return Records.Make(Name, sample, index, output, extracted, OpenCompassPostprocessors.Gsm8kEqual(extracted, sample.Reference) ? 1 : 0);
    }

    public TaskSummary Summarize(IReadOnlyList<SampleRecord> records) => Summaries.MeanOfSubsets(Name, records);
}
