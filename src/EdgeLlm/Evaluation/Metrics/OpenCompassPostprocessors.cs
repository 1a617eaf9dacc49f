using System.Text.RegularExpressions;

namespace EdgeLlm.Evaluation.Metrics;

/// <summary>
/// OpenCompass 0.3.1's answer extractors, with the same semantics (Python's str methods through
/// <see cref="PythonSemantics"/>, regular expressions written to match as Python's re does). Each cites
/// the function it matches; tests/EdgeLlm.Tests/References/opencompass-postprocessors.json holds the
/// published functions' own outputs on a fixed set of texts, and the tests compare every one.
/// </summary>
public static class OpenCompassPostprocessors
{
    /// <summary>opencompass/utils/text_postprocessors.py first_capital_postprocess: the first upper-case character, or "".</summary>
    public static string FirstCapital(string text)
    {
        foreach (var r in text.EnumerateRunes()) if (PythonSemantics.IsUpper(r)) return r.ToString();
        return "";
    }

    /// <summary>opencompass/datasets/gsm8k.py gsm8k_postprocess: the last number before any "Question:", or "NULL".</summary>
    public static string Gsm8kPrediction(string text)
    {
        text = SplitFirst(text, "Question:");
        var numbers = Regex.Matches(text, @"\-?\d+\.\d+|\-?\d+");
        return numbers.Count == 0 ? "NULL" : numbers[^1].Value;
    }

    /// <summary>gsm8k_dataset_postprocess: the text after "#### " without thousands separators.</summary>
    public static string Gsm8kReference(string answer)
    {
        var parts = answer.Split("#### ");
        if (parts.Length < 2) throw new FormatException("A GSM8K answer has no '#### ' line.");
        return parts[1].Replace(",", "");
    }

    /// <summary>Gsm8kEvaluator.is_equal: equal strings, or |float(pred) − int(ref)| &lt; 1e-6 when both parse.</summary>
    public static bool Gsm8kEqual(string prediction, string reference)
    {
        if (prediction == reference) return true;
        return PythonSemantics.Float(prediction) is double p && PythonSemantics.Int(reference) is { } r && Math.Abs(p - (double)r) < 1e-6;
    }

    /// <summary>opencompass/datasets/bbh.py bbh_mcq_postprocess.</summary>
    public static string BbhMultipleChoice(string text)
    {
        var answer = AfterAnswerIs(text);
        var match = Regex.Match(answer, @"\(([A-Z])\)*");
        if (match.Success) return match.Groups[1].Value;
        match = Regex.Match(answer, "([A-Z])");
        return match.Success ? match.Groups[1].Value : answer;
    }

    /// <summary>opencompass/datasets/bbh.py bbh_freeform_postprocess.</summary>
    public static string BbhFreeForm(string text)
    {
        var answer = PythonSemantics.Strip(SplitFirst(AfterAnswerIs(text), "\n"));
        if (answer.EndsWith('.')) answer = PythonSemantics.Strip(answer[..^1]);
        var match = Regex.Match(answer, @"\*\*(.*?)\*\*");
        return match.Success ? match.Groups[1].Value : answer;
    }

    /// <summary>opencompass/datasets/humaneval.py humaneval_postprocess_v2: the first fenced code block, else the text.</summary>
    public static string HumanEvalV2(string text)
    {
        // Python's \w is letters, numbers (any N category) and '_'; .NET's adds marks and connector punctuation.
        var match = Regex.Match(text, @"```[\p{L}\p{N}_]*\n(.*?)```", RegexOptions.Singleline);
        return match.Success ? match.Groups[1].Value : text;
    }

    /// <summary>LongBench trec/lsht/samsum/triviaqa postprocess: the first line after leading newlines.</summary>
    public static string FirstLine(string text) => SplitFirst(text.TrimStart('\n'), "\n");

    // Python: ans.split('answer is ') and, when there is more than one piece, the second one stripped.
    private static string AfterAnswerIs(string text)
    {
        var pieces = text.Split("answer is ");
        return pieces.Length != 1 ? PythonSemantics.Strip(pieces[1]) : text;
    }

    private static string SplitFirst(string text, string separator)
    {
        int at = text.IndexOf(separator, StringComparison.Ordinal);
        return at < 0 ? text : text[..at];
    }
}
