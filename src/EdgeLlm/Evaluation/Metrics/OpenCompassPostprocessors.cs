using System.Text.RegularExpressions;

namespace EdgeLlm.Evaluation.Metrics;

/// <summary>
/// OpenCompass 0.3.1's answer extractors, with the same semantics (Python's str.split/strip and re
/// behave as written here). Each cites the function it matches.
/// </summary>
public static class OpenCompassPostprocessors
{
    /// <summary>opencompass/utils/text_postprocessors.py first_capital_postprocess: the first upper-case character, or "".</summary>
    public static string FirstCapital(string text)
    {
        foreach (var c in text) if (char.IsUpper(c)) return c.ToString();
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
        return PythonFloat(prediction) is double p && PythonInt(reference) is long r && Math.Abs(p - r) < 1e-6;
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
        var answer = SplitFirst(AfterAnswerIs(text), "\n").Trim();
        if (answer.EndsWith('.')) answer = answer[..^1].Trim();
        var match = Regex.Match(answer, @"\*\*(.*?)\*\*");
        return match.Success ? match.Groups[1].Value : answer;
    }

    /// <summary>opencompass/datasets/humaneval.py humaneval_postprocess_v2: the first fenced code block, else the text.</summary>
    public static string HumanEvalV2(string text)
    {
        var match = Regex.Match(text, @"```\w*\n(.*?)```", RegexOptions.Singleline);
        return match.Success ? match.Groups[1].Value : text;
    }

    /// <summary>LongBench trec/lsht/samsum/triviaqa postprocess: the first line after leading newlines.</summary>
    public static string FirstLine(string text) => SplitFirst(text.TrimStart('\n'), "\n");

    // Python: ans.split('answer is ') and, when there is more than one piece, the second one stripped.
    private static string AfterAnswerIs(string text)
    {
        var pieces = text.Split("answer is ");
        return pieces.Length != 1 ? pieces[1].Trim() : text;
    }

    private static string SplitFirst(string text, string separator)
    {
        int at = text.IndexOf(separator, StringComparison.Ordinal);
        return at < 0 ? text : text[..at];
    }

    private static double? PythonFloat(string s) =>
        double.TryParse(s.Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;

    private static long? PythonInt(string s)
    {
        var t = s.Trim().Replace("_", "");
        return long.TryParse(t, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;
    }
}
