using System.Text.Json;
using EdgeLlm.Evaluation.Metrics;

namespace EdgeLlm.Evaluation.Tasks;

/// <summary>
/// FewCLUE CHID as the challenge ran it (FewCLUE_chid_gen → FewCLUE_chid_gen_0a29a2, CHIDDatasetV2):
/// "#idiom#" becomes "______", the seven candidates are listed A–G, the model answers by generation
/// (max_out_len 256) and first_capital_postprocess picks the letter; accuracy on chid-dev
/// (dev_few_all.json) and chid-test (test_public.json), and the CHID score is their mean.
/// </summary>
public sealed class ChidTask(string folder, int maxNewTokens = 256) : IEvaluationTask
{
    public static IReadOnlyList<(string Subset, string File)> Splits { get; } = [("chid-dev", "dev_few_all.json"), ("chid-test", "test_public.json")];

    public string Name => "chid";

    public static string BuildPrompt(string content, IReadOnlyList<string> candidates)
    {
        var blanked = content.Replace("#idiom#", "______");
        return $"{blanked}\n请选择______处所填的词\nA. {candidates[0]}\nB. {candidates[1]}\nC. {candidates[2]}\nD. {candidates[3]}\n" +
               $"E. {candidates[4]}\nF. {candidates[5]}\nG. {candidates[6]}\n请从”A“，”B“，”C“，”D“，”E“，”F“，”G“中进行选择。答：";
    }

    public IReadOnlyList<EvalSample> LoadSamples()
    {
        var request = new GenerationRequest(maxNewTokens, []);
        var samples = new List<EvalSample>();
        foreach (var (subset, name) in Splits)
        {
            var file = Path.Combine(folder, name);
            int i = 0;
            foreach (var (line, item) in DatasetFiles.JsonLines(file))
            {
                var content = DatasetFiles.Text(item, "content", file, line);
                var candidates = DatasetFiles.Strings(DatasetFiles.Field(item, "candidates", file, line, JsonValueKind.Array), file, line);
                if (candidates.Count != 7) throw new DatasetFormatException(file, line, $"expected 7 candidates, found {candidates.Count}");
                var answer = DatasetFiles.Field(item, "answer", file, line, JsonValueKind.Number).GetInt32();
                if (answer is < 0 or > 6) throw new DatasetFormatException(file, line, $"answer {answer} is not a candidate index");
                samples.Add(new EvalSample($"{subset}/{i++}", subset, BuildPrompt(content, candidates), "ABCDEFG"[answer].ToString(), request));
            }
        }
        return samples;
    }

    public SampleRecord Score(EvalSample sample, int index, string output)
    {
        var extracted = OpenCompassPostprocessors.FirstCapital(output);
        return Records.Make(Name, sample, index, output, extracted, extracted == sample.Reference ? 1 : 0);
    }

    public TaskSummary Summarize(IReadOnlyList<SampleRecord> records) => Summaries.MeanOfSubsets(Name, records);
}
