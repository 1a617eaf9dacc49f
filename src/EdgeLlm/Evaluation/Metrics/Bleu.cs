using System.Text.RegularExpressions;

namespace EdgeLlm.Evaluation.Metrics;

/// <summary>
/// The BLEU that OpenCompass's TruthfulQAEvaluator gets from Hugging Face evaluate's "bleu" metric:
/// sacrebleu's 13a tokenizer (tokenizer_13a.py) and the tensorflow/nmt corpus BLEU (nmt_bleu.py
/// compute_bleu) with max_order 4, no smoothing, one prediction against one reference.
/// </summary>
public static class Bleu
{
    private static readonly (Regex Pattern, string Replacement)[] Rules =
    [
        (new Regex(@"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), " $1 "),
        (new Regex(@"([^0-9])([\.,])"), "$1 $2 "),
        (new Regex(@"([\.,])([^0-9])"), " $1 $2"),
        (new Regex(@"([0-9])(-)"), "$1 $2 "),
    ];

    /// <summary>tokenizer_13a.py Tokenizer13a.__call__ followed by TokenizerRegexp (which returns line.split()).</summary>
    public static string[] Tokenize13a(string line)
    {
        line = line.Replace("<skipped>", "").Replace("-\n", "").Replace("\n", " ");
        if (line.Contains('&'))
            line = line.Replace("&quot;", "\"").Replace("&amp;", "&").Replace("&lt;", "<").Replace("&gt;", ">");
        line = " " + line + " ";
        foreach (var (pattern, replacement) in Rules) line = pattern.Replace(line, replacement);
        return PythonSemantics.Split(line);
    }

    /// <summary>BLEU of one prediction against one reference, in [0, 1].</summary>
    public static double Sentence(string prediction, string reference)
    {
        var translation = Tokenize13a(prediction);
        var refTokens = Tokenize13a(reference);
        const int maxOrder = 4;
        var matches = new int[maxOrder];
        var possible = new int[maxOrder];
        var refCounts = NGrams(refTokens, maxOrder);
        foreach (var (gram, count) in NGrams(translation, maxOrder))
            if (refCounts.TryGetValue(gram, out var inRef)) matches[gram.Count(c => c == '\u0001')] += Math.Min(count, inRef);
        for (int order = 1; order <= maxOrder; order++)
            possible[order - 1] = Math.Max(translation.Length - order + 1, 0);
        var precisions = new double[maxOrder];
        for (int i = 0; i < maxOrder; i++) precisions[i] = possible[i] > 0 ? (double)matches[i] / possible[i] : 0;
        double geoMean = precisions.Min() > 0 ? Math.Exp(precisions.Sum(Math.Log) / maxOrder) : 0;
        if (refTokens.Length == 0) throw new ArgumentException("BLEU needs a non-empty reference.");
        double ratio = (double)translation.Length / refTokens.Length;
        if (ratio <= 0) throw new ArgumentException("BLEU needs a non-empty prediction (the nmt formula divides by its length).");
        double bp = ratio > 1.0 ? 1.0 : Math.Exp(1 - 1.0 / ratio);
        return geoMean * bp;
    }

    // n-grams joined by \u0001, so the order of an n-gram is its separator count + 1.
    private static Dictionary<string, int> NGrams(string[] tokens, int maxOrder)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int order = 1; order <= maxOrder; order++)
            for (int i = 0; i + order <= tokens.Length; i++)
            {
                var gram = string.Join('\u0001', tokens, i, order);
                counts[gram] = counts.GetValueOrDefault(gram) + 1;
            }
        return counts;
    }
}
