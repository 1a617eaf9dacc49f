using EdgeLlm.Evaluation.Metrics;

namespace EdgeLlm.Evaluation.Tasks;

/// <summary>
/// MMLU as OpenCompass 0.3.1's mmlu_gen (mmlu_gen_4d595a, MMLUDataset): per subject, the five first dev rows
/// (FixKRetriever [0..4]) as rounds "There is a single choice question about {subject with spaces}. Answer the
/// question by replying A, B, C or D.\nQuestion: {input}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\nAnswer: " / "{target}\n",
/// then the test question's HUMAN round. The config sets no max_out_len (the CLI's applies); the answer is
/// first_option_postprocess(options "ABCD"), compared exactly with the target (AccwithDetailsEvaluator); the
/// task score is the summarizer's "mmlu": the naive average of the 57 lukaemon_mmlu_* subject accuracies.
/// Reads the released data/{dev,test}/{subject}_{split}.csv (no header, six fields).
/// </summary>
public sealed class MmluTask(string dataFolder, int maxNewTokens) : IEvaluationTask
{
    public string Name => "mmlu";

    public static string HumanText(string subject, ChoiceQuestion q) =>
        $"There is a single choice question about {subject.Replace('_', ' ')}. Answer the question by replying A, B, C or D.\n" +
        $"Question: {q.Question}\nA. {q.Options[0]}\nB. {q.Options[1]}\nC. {q.Options[2]}\nD. {q.Options[3]}\nAnswer: ";

    public IReadOnlyList<EvalSample> LoadSamples()
    {
        var request = new GenerationRequest(maxNewTokens, []);
        var samples = new List<EvalSample>();
        foreach (var subject in FewShotChoiceRows.Subjects(Path.Combine(dataFolder, "dev"), "_dev.csv"))
        {
            var devFile = Path.Combine(dataFolder, "dev", $"{subject}_dev.csv");
            var dev = Read(devFile);
            int i = 0;
            foreach (var q in Read(Path.Combine(dataFolder, "test", $"{subject}_test.csv")))
            {
                var rounds = FewShotChoiceRows.Rounds(dev, q, x => HumanText(subject, x), x => x.Answer + "\n", devFile);
                samples.Add(new EvalSample($"mmlu/{subject}/{i++}", "lukaemon_mmlu_" + subject, FewShotChoiceRows.BasePrompt(rounds), q.Answer, request)
                    { Rounds = rounds });
            }
        }
        return samples;
    }

    private static List<ChoiceQuestion> Read(string file) => CsvFile.Read(file).Select(row =>
    {
        if (row.Fields.Count != 6) throw new DatasetFormatException(file, row.Line, $"expected 6 fields (question, A, B, C, D, answer), found {row.Fields.Count}");
        return new ChoiceQuestion(row.Fields[0], row.Fields[1..5], row.Fields[5]);
    }).ToList();

    public SampleRecord Score(EvalSample sample, int index, string output)
    {
        var extracted = FirstOptionPostprocessor.Extract(output, "ABCD");
        return Records.Make(Name, sample, index, output, extracted, extracted == sample.Reference ? 1 : 0);
    }

    public TaskSummary Summarize(IReadOnlyList<SampleRecord> records) => Summaries.MeanOfSubsets(Name, records);
}
