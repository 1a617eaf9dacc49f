using System.Text.Json;
using EdgeLlm.Evaluation.Metrics;

namespace EdgeLlm.Evaluation.Tasks;

/// <summary>
/// C-Eval as OpenCompass 0.3.1's ceval_gen (ceval_gen_5f30c7, CEvalDataset) on the val split (the config's only
/// split: test has no answers): per subject, the five first dev rows (FixKRetriever [0..4]) as rounds
/// "以下是中国关于{中文科目名}考试的单项选择题，请选出其中的正确答案。\n{question}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\n答案: " /
/// "{answer}", then the val question's HUMAN round (the ice template serves as prompt template). The config sets no
/// max_out_len (the CLI's applies); the answer is first_capital_postprocess compared with the answer letter
/// (AccEvaluator); the task score is the summarizer's "ceval": the naive average of the 52 ceval-* subject
/// accuracies. Reads {dev,val}/{subject}_{split}.csv (header id,question,A,B,C,D,answer[,explanation]) and
/// subject_mapping.json for the Chinese subject names.
/// </summary>
public sealed class CevalTask(string folder, int maxNewTokens) : IEvaluationTask
{
    public string Name => "ceval";

    public static string HumanText(string chineseName, ChoiceQuestion q) =>
        $"以下是中国关于{chineseName}考试的单项选择题，请选出其中的正确答案。\n{q.Question}\nA. {q.Options[0]}\nB. {q.Options[1]}\nC. {q.Options[2]}\nD. {q.Options[3]}\n答案: ";

    public IReadOnlyList<EvalSample> LoadSamples()
    {
        var names = ChineseNames(Path.Combine(folder, "subject_mapping.json"));
        var request = new GenerationRequest(maxNewTokens, []);
        var samples = new List<EvalSample>();
        foreach (var subject in FewShotChoiceRows.Subjects(Path.Combine(folder, "dev"), "_dev.csv"))
        {
            if (!names.TryGetValue(subject, out var chinese))
                throw new DatasetFormatException(Path.Combine(folder, "subject_mapping.json"), 0, $"has no entry for subject '{subject}'");
            var devFile = Path.Combine(folder, "dev", $"{subject}_dev.csv");
            var dev = Read(devFile);
            int i = 0;
            foreach (var q in Read(Path.Combine(folder, "val", $"{subject}_val.csv")))
            {
                var rounds = FewShotChoiceRows.Rounds(dev, q, x => HumanText(chinese, x), x => x.Answer, devFile);
                samples.Add(new EvalSample($"ceval/{subject}/{i++}", "ceval-" + subject, FewShotChoiceRows.BasePrompt(rounds), q.Answer, request)
                    { Rounds = rounds });
            }
        }
        return samples;
    }

    private static Dictionary<string, string> ChineseNames(string file)
    {
        var root = DatasetFiles.JsonDocumentRoot(file);
        if (root.ValueKind != JsonValueKind.Object) throw new DatasetFormatException(file, 1, "expected an object subject -> [English, Chinese, category]");
        return root.EnumerateObject().ToDictionary(p => p.Name, p =>
            p.Value.ValueKind == JsonValueKind.Array && p.Value.GetArrayLength() >= 2 && p.Value[1].ValueKind == JsonValueKind.String
                ? p.Value[1].GetString()!
                : throw new DatasetFormatException(file, 1, $"entry '{p.Name}' is not [English, Chinese, category]"));
    }

    // CEvalDataset: dict(zip(header, row)); the columns are found by name.
    private static List<ChoiceQuestion> Read(string file)
    {
        var rows = CsvFile.Read(file).ToList();
        if (rows.Count == 0) throw new DatasetFormatException(file, 1, "is empty (expected a header line)");
        var header = rows[0].Fields;
        int Column(string name) => header.IndexOf(name) is var c and >= 0 ? c : throw new DatasetFormatException(file, 1, $"header has no column '{name}'");
        int question = Column("question"), a = Column("A"), b = Column("B"), c = Column("C"), d = Column("D"), answer = Column("answer");
        return rows.Skip(1).Select(row =>
        {
            if (row.Fields.Count != header.Count) throw new DatasetFormatException(file, row.Line, $"expected {header.Count} fields, found {row.Fields.Count}");
            var f = row.Fields;
            return new ChoiceQuestion(f[question], [f[a], f[b], f[c], f[d]], f[answer]);
        }).ToList();
    }

    public SampleRecord Score(EvalSample sample, int index, string output)
    {
        var extracted = OpenCompassPostprocessors.FirstCapital(output);
        return Records.Make(Name, sample, index, output, extracted, extracted == sample.Reference ? 1 : 0);
    }

    public TaskSummary Summarize(IReadOnlyList<SampleRecord> records) => Summaries.MeanOfSubsets(Name, records);
}
