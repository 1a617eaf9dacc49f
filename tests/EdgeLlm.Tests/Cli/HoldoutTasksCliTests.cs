using System.Text.Json;
using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Evaluation.Workflows;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Cli;

/// <summary>
/// MMLU and C-Eval end to end through the command line on data/demo-model: a scored kit-2024-base run whose scores are
/// recomputed by hand from the records and the published CSVs, and the chat prompts of edge-llm-2024.
/// </summary>
public class HoldoutTasksCliTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("edgellm-holdout-").FullName;
    public void Dispose() => Directory.Delete(temp, recursive: true);

    private static readonly string Demo = Path.Combine(SharedData.RepoRoot, "data", "demo-model");

    // --limit 2 takes each task's first two samples in file order: the first subject in ordinal order.
    private static readonly Dictionary<string, (string Subset, string Csv, int AnswerColumn, bool Header)> FirstSubject = new()
    {
        ["mmlu"] = ("lukaemon_mmlu_abstract_algebra", SharedData.Path("datasets", "mmlu", "data", "test", "abstract_algebra_test.csv"), 5, false),
        ["ceval"] = ("ceval-accountant", SharedData.Path("datasets", "ceval", "val", "accountant_val.csv"), 6, true),
    };

    [Fact]
    public void KitBaseRunScoresBothTasksAsAccuracyOfTheExtractedLetter()
    {
        var run = Path.Combine(temp, "run");
        var r = CliRunner.Run("eval", Demo, "--protocol", "kit-2024-base", "--tasks", "mmlu,ceval", "--limit", "2",
            "--data", SharedData.Path("datasets"), "--out", run, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var summary = JsonSerializer.Deserialize<EvaluationSummary>(File.ReadAllText(Path.Combine(run, "summary.json")), RunDirectory.Json)!;
        Assert.Equal("mmlu_gen_4d595a", summary.Tasks["mmlu"].Config);
        Assert.Equal("ceval_gen_5f30c7 (val split)", summary.Tasks["ceval"].Config);
        foreach (var (task, first) in FirstSubject)
        {
            var records = File.ReadAllLines(Path.Combine(run, task + ".jsonl"))
                .Select(l => JsonSerializer.Deserialize<SampleRecord>(l, RunDirectory.Json)!).OrderBy(x => x.Index).ToList();
            Assert.Equal(2, records.Count);
            // The references are the CSV's answer column, rows 1 and 2 (CsvFile is checked on its own; the answers are single letters).
            var answers = CsvFile.Read(first.Csv).Skip(first.Header ? 1 : 0).Take(2).Select(row => row.Fields[first.AnswerColumn]).ToList();
            Assert.Equal(answers, records.Select(x => x.Reference));
            Assert.All(records, x => Assert.Equal(first.Subset, x.Subset));
            // Base prompts: 5 dev examples, then the question; 256 new tokens at most (OpenCompass's CLI default).
            var answerCue = task == "mmlu" ? "\nAnswer: " : "\n答案: ";
            Assert.All(records, x => Assert.Equal(6, x.Prompt.Split(answerCue).Length - 1));
            Assert.All(records, x => Assert.EndsWith(answerCue, x.Prompt));
            foreach (var x in records)
            {
                // Extraction by hand: C-Eval's first_capital_postprocess is the first upper-case letter; MMLU's is checked
                // against OpenCompass's own function elsewhere (FirstOptionReferenceTests), here only that it is a letter or "".
                if (task == "ceval") Assert.Equal(x.Output.FirstOrDefault(char.IsUpper) is var c && c != default ? c.ToString() : "", x.Extracted);
                else Assert.Contains(x.Extracted, new[] { "A", "B", "C", "D", "" });
                Assert.Equal(x.Extracted == x.Reference ? 1.0 : 0.0, x.Score);
            }
            double expected = 100.0 * records.Count(x => x.Extracted == x.Reference) / records.Count;
            Assert.Equal(expected, summary.Tasks[task].Score, 9);
            Assert.Equal(expected, summary.Tasks[task].Subsets[first.Subset], 9);
        }
    }

    [Fact]
    public void ChatPromptsAreFiveShotMessagesUnderTheGivenTemplate()
    {
        var r = CliRunner.Run("eval", Demo, "--prompts-only", "--tasks", "mmlu,ceval", "--limit", "2", "--data", SharedData.Path("datasets"),
            "--chat-template", SharedData.Path("tokenizers", "chat-templates", "Qwen-Qwen2-7B-Instruct.jinja"), "--out", temp, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        foreach (var (task, marker) in new[] { ("mmlu", "Answer: \n<|im_end|>"), ("ceval", "答案: \n<|im_end|>") })
        {
            var lines = File.ReadAllLines(Path.Combine(temp, "prompts", task + ".jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(2, lines.Count);
            foreach (var line in lines)
            {
                var text = line.GetProperty("text").GetString()!;
                // ChatML: the default system turn, 6 user turns (5 examples + the question) and 5 assistant answers, then the generation prompt.
                Assert.StartsWith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n", text);
                Assert.Equal(6, text.Split("<|im_start|>user\n").Length - 1);
                Assert.Equal(6, text.Split("<|im_start|>assistant\n").Length - 1);
                Assert.Equal(6, text.Split(marker).Length - 1);
                Assert.EndsWith(marker + "\n<|im_start|>assistant\n", text);
                Assert.Equal(1024, line.GetProperty("max_new_tokens").GetInt32());
            }
        }
    }
}
