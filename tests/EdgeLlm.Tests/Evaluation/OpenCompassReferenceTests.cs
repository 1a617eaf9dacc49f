using System.Text.Json;
using EdgeLlm.Evaluation.Metrics;
using EdgeLlm.Evaluation.Tasks;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>
/// EdgeLlm's post-processors, BLEU and TruthfulQA summary against what OpenCompass 0.3.1's own functions
/// (and Hugging Face evaluate's bleu) returned for the same texts: References/opencompass-postprocessors.json,
/// made by tools/reference/opencompass_postprocessors.py. Every case must match exactly.
/// </summary>
public class OpenCompassReferenceTests
{
    private static readonly JsonElement Reference =
        SharedData.ReferenceJson("opencompass-postprocessors.json");

    // Each case is [input, expected output]; all mismatches are reported together.
    private static void AllMatch(string function, Func<string, string> edgeLlm)
    {
        var cases = Reference.GetProperty(function).EnumerateArray().ToList();
        Assert.NotEmpty(cases);
        var wrong = cases.Select(c => (Input: c[0].GetString()!, Expected: c[1].GetString()!))
            .Where(c => edgeLlm(c.Input) != c.Expected)
            .Select(c => $"{JsonSerializer.Serialize(c.Input)}: expected {JsonSerializer.Serialize(c.Expected)}, got {JsonSerializer.Serialize(edgeLlm(c.Input))}")
            .ToList();
        Assert.True(wrong.Count == 0, function + " differs:\n" + string.Join("\n", wrong));
    }

    [Fact] public void FirstCapital() => AllMatch("first_capital_postprocess", OpenCompassPostprocessors.FirstCapital);
    [Fact] public void BbhMultipleChoice() => AllMatch("bbh_mcq_postprocess", OpenCompassPostprocessors.BbhMultipleChoice);
    [Fact] public void BbhFreeForm() => AllMatch("bbh_freeform_postprocess", OpenCompassPostprocessors.BbhFreeForm);
    [Fact] public void Gsm8kPrediction() => AllMatch("gsm8k_postprocess", OpenCompassPostprocessors.Gsm8kPrediction);
    [Fact] public void Gsm8kReference() => AllMatch("gsm8k_dataset_postprocess", OpenCompassPostprocessors.Gsm8kReference);
    [Fact] public void HumanEvalV2() => AllMatch("humaneval_postprocess_v2", OpenCompassPostprocessors.HumanEvalV2);

    [Fact]
    public void Gsm8kIsEqual()
    {
        foreach (var c in Reference.GetProperty("gsm8k_is_equal").EnumerateArray())
            Assert.True(c[2].GetBoolean() == OpenCompassPostprocessors.Gsm8kEqual(c[0].GetString()!, c[1].GetString()!), $"is_equal({c[0]}, {c[1]})");
    }

    // The evaluator's mean() is round(x, 4).
    [Fact]
    public void PythonRound()
    {
        foreach (var c in Reference.GetProperty("python_round4").EnumerateArray())
            Assert.True(c[1].GetDouble() == PythonSemantics.Round(c[0].GetDouble(), 4), $"round({c[0]}, 4) = {c[1]}, got {PythonSemantics.Round(c[0].GetDouble(), 4):R}");
    }

    [Fact]
    public void TruthfulQaBleuPerAnswer()
    {
        foreach (var sample in Reference.GetProperty("truthfulqa_bleu").GetProperty("samples").EnumerateArray())
        {
            var prediction = sample.GetProperty("prediction").GetString()!;
            if (!sample.TryGetProperty("tokens", out var tokens)) { Assert.Equal("", PythonSemantics.Strip(prediction)); continue; }
            Assert.Equal(tokens.EnumerateArray().Select(t => t.GetString()!), Bleu.Tokenize13a(prediction));
            var correct = Strings(sample.GetProperty("correct_answers"));
            if (!correct.Contains(TruthfulQaTask.NoComment)) correct.Add(TruthfulQaTask.NoComment);
            Assert.Equal(Doubles(sample.GetProperty("correct_bleu")), correct.Where(a => a.Length > 0).Select(a => Bleu.Sentence(prediction, a)));
            Assert.Equal(Doubles(sample.GetProperty("incorrect_bleu")),
                Strings(sample.GetProperty("incorrect_answers")).Where(a => a.Length > 0).Select(a => Bleu.Sentence(prediction, a)));
        }
    }

    // The whole path: the shared CSV's first rows as TruthfulQaTask loads them, scored and summarised,
    // against TruthfulQAEvaluator(metrics='bleu').score on the same predictions.
    [Fact]
    public void TruthfulQaEvaluatorScore()
    {
        var reference = Reference.GetProperty("truthfulqa_bleu");
        var samples = reference.GetProperty("samples").EnumerateArray().ToList();
        var task = new TruthfulQaTask(SharedData.Path("datasets", "truthfulqa", "TruthfulQA.csv"));
        var loaded = task.LoadSamples().Take(samples.Count).ToList();
        var records = new List<EdgeLlm.Evaluation.SampleRecord>();
        for (int i = 0; i < samples.Count; i++)
        {
            var refs = JsonSerializer.Deserialize<TruthfulQaTask.Reference>(loaded[i].Reference)!;
            Assert.Equal(Strings(samples[i].GetProperty("correct_answers")), refs.Correct);
            Assert.Equal(Strings(samples[i].GetProperty("incorrect_answers")), refs.Incorrect);
            records.Add(task.Score(loaded[i], i, samples[i].GetProperty("prediction").GetString()!));
        }
        var summary = task.Summarize(records);
        foreach (var metric in reference.GetProperty("evaluator_score").EnumerateObject())
            Assert.True(metric.Value.GetDouble() == summary.Metrics[metric.Name], $"{metric.Name}: {metric.Value} vs {summary.Metrics[metric.Name]:R}");
    }

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();
    private static List<double> Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToList();
}
