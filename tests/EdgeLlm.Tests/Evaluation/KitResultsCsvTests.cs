using EdgeLlm.Evaluation.Ranking;
using EdgeLlm.Evaluation.Workflows;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>The kit's Results.csv: its header as Generate_CSV.py writes it, values as pandas prints Python floats.</summary>
public class KitResultsCsvTests
{
    // TianjinYellow/EdgeDeviceLLMCompetition-Starting-Kit @ b5aca58, Results.csv (what Generate_CSV.py writes with zeros).
    private const string KitHeader = "CommonsenseQA,BIG-Bench-Hard,GSM8K,LongBench,HumanEval,CHID,TruthfulQA,Throughput,Memory-Usage";

    private static TaskScores Task(double score, Dictionary<string, double>? subsets = null) =>
        new("config", score, 10, subsets ?? new Dictionary<string, double>(), new Dictionary<string, double>(), 10, 0, 1);

    [Fact]
    public void TheKitsReferenceRowForLlama31IsWrittenInTheKitsColumnOrder()
    {
        var summary = new EvaluationSummary("m", "f", "edge-llm-2024", "chat", "tokenizer_config.json", [], "1/1", null, new Dictionary<string, TaskScores>
        {
            ["csqa"] = Task(72.89), ["chid"] = Task(70.0, new() { ["chid-dev"] = 70.57, ["chid-test"] = 69.43 }), ["humaneval"] = Task(68.29),
            ["gsm8k"] = Task(84.38), ["truthfulqa"] = Task(0.28), ["bbh"] = Task(67.92),
        });
        var text = KitResultsCsv.Format(KitResultsCsv.FromSummary(summary, throughput: 12.5, memoryUsageGb: 1e-5));
        Assert.Equal(KitHeader + "\n72.89,67.92,84.38,,68.29,69.43,0.28,12.5,1e-05\n", text);
    }

    [Fact]
    public void WholeNumbersPrintAsPythonFloatsAndNaNIsRefused()
    {
        Assert.EndsWith("\n0.0,100.0,,,,,,1234567.0,16.0\n", KitResultsCsv.Format(new KitResults(0, 100, null, null, null, null, null, 1234567, 16)));
        Assert.Throws<ArgumentException>(() => KitResultsCsv.Format(new KitResults(double.NaN, null, null, null, null, null, null, null, null)));
    }

    [Fact]
    public void ThroughputAndMemoryComeFromThePhoneMeasurement()
    {
        var dir = Directory.CreateTempSubdirectory("edgellm-kitcsv-");
        try
        {
            var jsonl = Path.Combine(dir.FullName, "phone.jsonl");
            var log = Path.Combine(EdgeLlm.Tests.Support.SharedData.RepoRoot, "tests", "EdgeLlm.Tests", "Profiling", "Logs", "mlc-usage.jsonl");
            EdgeLlm.Profiling.Phone.PhoneMeasurementStore.Append(jsonl, EdgeLlm.Profiling.Phone.PhoneLogImporter.Import(log, "m", "d", "run-a", DateTimeOffset.UnixEpoch));
            // mlc-usage.jsonl: prefill 50 tok/s, decode 10 tok/s -> (50 + 10) / 2 = 30.
            double throughput = EdgeLlm.Profiling.Phone.PhoneThroughputScore.ForRun(jsonl, "run-a").Score;
            var summary = new EvaluationSummary("m", "f", "edge-llm-2024", "chat", "tokenizer_config.json", [], "1/1", null,
                new Dictionary<string, TaskScores> { ["gsm8k"] = Task(50.5), ["truthfulqa"] = Task(0.25) });
            var lines = KitResultsCsv.Format(KitResultsCsv.FromSummary(summary, throughput, 7.25)).Split('\n');
            Assert.Equal(KitHeader, lines[0]);
            Assert.Equal(",,50.5,,,,0.25,30.0,7.25", lines[1]);
        }
        finally { dir.Delete(true); }
    }
}
