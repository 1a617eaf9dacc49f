using EdgeLlm.Tests.Support;
using EdgeLlm.Evaluation.Metrics;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>Expected values worked by hand from OpenCompass 0.3.1's Python (file and function cited per test).</summary>
public class PostprocessorTests
{
    // opencompass/datasets/gsm8k.py gsm8k_postprocess: text.split('Question:')[0], then the last of
    // re.findall(r'\-?\d+\.\d+|\-?\d+') — "3.75" is one match, "-2" keeps its sign, later questions are ignored.
    [Theory]
    [InlineData("12 / 4 = 3.75 days\nThe answer is 4\n\nQuestion: 99 apples?", "4")]
    [InlineData("so 5 - 7 = -2", "-2")]
    [InlineData("It costs 1,234 dollars", "234")]
    [InlineData("ratio 3.75", "3.75")]
    [InlineData("no digits here", "NULL")]
    [InlineData("Question: 5 and 6", "NULL")]
    public void Gsm8kPrediction(string output, string expected) => Assert.Equal(expected, OpenCompassPostprocessors.Gsm8kPrediction(output));

    // gsm8k_dataset_postprocess: split('#### ')[1].replace(',', ''); Gsm8kEvaluator.is_equal: pred == ref or
    // abs(float(pred) - int(ref)) < 1e-6 (so "18.0" equals "18"; "NULL" raises and is False).
    [Fact]
    public void Gsm8kReferenceAndEquality()
    {
        Assert.Equal("1234", OpenCompassPostprocessors.Gsm8kReference("She pays 1,000+234 = <<1000+234=1234>>1,234\n#### 1,234"));
        Assert.True(OpenCompassPostprocessors.Gsm8kEqual("18.0", "18"));
        Assert.True(OpenCompassPostprocessors.Gsm8kEqual("18", "18"));
        Assert.False(OpenCompassPostprocessors.Gsm8kEqual("18.5", "18"));
        Assert.False(OpenCompassPostprocessors.Gsm8kEqual("NULL", "18"));
        Assert.Throws<FormatException>(() => OpenCompassPostprocessors.Gsm8kReference("no marker"));
    }

    // opencompass/datasets/bbh.py bbh_mcq_postprocess: the piece after the first 'answer is ' (stripped), then
    // the first r'\(([A-Z])\)*' letter, else the first capital, else the text.
    [Theory]
    [InlineData("Let's see. So the answer is (B).", "B")]
    [InlineData("(A) looks wrong. So the answer is (C). Then the answer is (D).", "C")]
    [InlineData("I pick (E) here", "E")]
    [InlineData("So the answer is Yes.", "Y")]
    [InlineData("so the answer is no", "no")]
    [InlineData("(A)", "A")]
    public void BbhMultipleChoice(string output, string expected) => Assert.Equal(expected, OpenCompassPostprocessors.BbhMultipleChoice(output));

    // bbh_freeform_postprocess: after 'answer is ', first line, stripped, one trailing '.' removed, **bold** content.
    [Theory]
    [InlineData("Step 1... So the answer is 24.\nQ: next", "24")]
    [InlineData("So the answer is **valid**.", "valid")]
    [InlineData("True\nmore", "True")]
    [InlineData("  So the answer is ) ] }.  ", ") ] }")]
    public void BbhFreeForm(string output, string expected) => Assert.Equal(expected, OpenCompassPostprocessors.BbhFreeForm(output));

    // opencompass/utils/text_postprocessors.py first_capital_postprocess: first character with str.isupper().
    [Theory]
    [InlineData(" the answer: C. Paris", "C")]
    [InlineData("答：B", "B")]
    [InlineData("no capitals", "")]
    public void FirstCapital(string output, string expected) => Assert.Equal(expected, OpenCompassPostprocessors.FirstCapital(output));

    // opencompass/datasets/humaneval.py humaneval_postprocess_v2: first re.findall(r'```\w*\n(.*?)```', DOTALL) block.
    [Fact]
    public void HumanEvalV2TakesTheFirstFencedBlock()
    {
        Assert.Equal("    return a + b\n", OpenCompassPostprocessors.HumanEvalV2("Sure:\n```python\n    return a + b\n```\nand ```\nx\n```"));
        Assert.Equal("    return 1\n", OpenCompassPostprocessors.HumanEvalV2("    return 1\n"));
        Assert.Equal("```python no newline```", OpenCompassPostprocessors.HumanEvalV2("```python no newline```"));
    }
}
