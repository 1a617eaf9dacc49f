using System.Text.Json;
using EdgeLlm.Evaluation.Metrics;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>
/// first_option_postprocess(text, "ABCD") (MMLU's extractor) against OpenCompass 0.3.1's own function run on the same
/// texts: References/opencompass-first-option.json, made by tools/reference/opencompass_first_option.py.
/// </summary>
public class FirstOptionReferenceTests
{
    private static readonly JsonElement Reference = SharedData.ReferenceJson("opencompass-first-option.json");

    [Fact]
    public void EveryCaseMatchesOpenCompass()
    {
        var cases = Reference.GetProperty("first_option_postprocess_ABCD").EnumerateArray().ToList();
        Assert.True(cases.Count >= 30);
        var wrong = cases.Select(c => (Input: c[0].GetString()!, Expected: c[1].GetString()!))
            .Where(c => FirstOptionPostprocessor.Extract(c.Input) != c.Expected)
            .Select(c => $"{JsonSerializer.Serialize(c.Input)}: expected {JsonSerializer.Serialize(c.Expected)}, got {JsonSerializer.Serialize(FirstOptionPostprocessor.Extract(c.Input))}")
            .ToList();
        Assert.True(wrong.Count == 0, "first_option_postprocess differs:\n" + string.Join("\n", wrong));
    }

    // The reference list is long enough that an empty or constant extractor cannot pass: several distinct answers and "".
    [Fact]
    public void ReferenceCoversEveryOptionAndNoAnswer()
    {
        var outputs = Reference.GetProperty("first_option_postprocess_ABCD").EnumerateArray().Select(c => c[1].GetString()!).ToHashSet();
        Assert.Superset(new HashSet<string> { "A", "B", "C", "D", "" }, outputs);
    }
}
