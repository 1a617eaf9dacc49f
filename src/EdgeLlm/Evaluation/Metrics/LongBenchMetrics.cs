using System.Text.RegularExpressions;
using EdgeLlm.Evaluation.Text;
using EdgeLlm.Evaluation.Text.Jieba;

namespace EdgeLlm.Evaluation.Metrics;

/// <summary>
/// LongBench's per-sample metrics as OpenCompass 0.3.1 implements them
/// (opencompass/datasets/longbench/evaluators.py). Each returns the sample's score in [0, 1];
/// the evaluator averages and multiplies by 100.
/// </summary>
public static class LongBenchMetrics
{
    private const string AsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    // normalize_zh_answer's cn_punctuation; the Python literal's backslash-newline continuation adds the
    // indentation spaces that follow it, which are whitespace and removed anyway.
    private const string ChinesePunctuation = "！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣､、〃》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏.";

    /// <summary>normalize_answer: lower case, drop ASCII punctuation, drop a/an/the, collapse whitespace.</summary>
    public static string NormalizeEnglish(string s)
    {
        s = s.ToLowerInvariant();
        s = new string(s.Where(c => !AsciiPunctuation.Contains(c)).ToArray());
        s = Regex.Replace(s, @"\b(a|an|the)\b", " ");
        return string.Join(' ', PythonText.SplitWhitespace(s));
    }

    /// <summary>normalize_zh_answer: lower case, drop ASCII and Chinese punctuation, remove all whitespace.</summary>
    public static string NormalizeChinese(string s)
    {
        s = s.ToLowerInvariant();
        s = new string(s.Where(c => !AsciiPunctuation.Contains(c) && !ChinesePunctuation.Contains(c)).ToArray());
        return string.Concat(PythonText.SplitWhitespace(s));
    }

    /// <summary>f1_score over token bags (Counter intersection).</summary>
    public static double TokenF1(IReadOnlyList<string> prediction, IReadOnlyList<string> reference)
    {
        var refCounts = reference.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
        int same = prediction.GroupBy(t => t).Sum(g => Math.Min(g.Count(), refCounts.GetValueOrDefault(g.Key)));
        if (same == 0) return 0;
        double precision = (double)same / prediction.Count, recall = (double)same / reference.Count;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>LongBenchF1Evaluator (language='en'): the best F1 over the references of normalised word tokens.</summary>
    public static double QaF1English(string prediction, IReadOnlyList<string> references) =>
        references.Select(r => TokenF1(NormalizeEnglish(prediction).Split(' ', StringSplitOptions.RemoveEmptyEntries),
            NormalizeEnglish(r).Split(' ', StringSplitOptions.RemoveEmptyEntries))).DefaultIfEmpty(0).Max();

    /// <summary>
    /// LongBenchF1Evaluator (language='zh'): the best F1 over the references of jieba tokens, each token
    /// normalised with normalize_zh_answer and empty ones dropped.
    /// </summary>
    public static double QaF1Chinese(string prediction, IReadOnlyList<string> references, JiebaSegmenter? segmenter = null)
    {
        var jieba = segmenter ?? JiebaSegmenter.Default;
        List<string> Tokens(string s) => jieba.Cut(s).Select(NormalizeChinese).Where(t => t.Length > 0).ToList();
        return references.Select(r => TokenF1(Tokens(prediction), Tokens(r))).DefaultIfEmpty(0).Max();
    }

    /// <summary>LongBenchRougeEvaluator (language='en'): the best ROUGE-L F over the references; a reference the package fails on scores 0.</summary>
    public static double RougeEnglish(string prediction, IReadOnlyList<string> references) =>
        references.Select(r => PltrdyRouge.RougeLF(prediction, r) ?? 0).Aggregate(0.0, Math.Max);

    /// <summary>
    /// LongBenchRougeEvaluator (language='zh'): prediction and reference are jieba tokens joined by spaces
    /// before ROUGE-L. The evaluator re-assigns the prediction inside its loop over references, so with
    /// several references the prediction is segmented and re-joined once more for each; that is kept.
    /// </summary>
    public static double RougeChinese(string prediction, IReadOnlyList<string> references, JiebaSegmenter? segmenter = null)
    {
        var jieba = segmenter ?? JiebaSegmenter.Default;
        double best = 0;
        foreach (var reference in references)
        {
            prediction = string.Join(' ', jieba.Cut(prediction));
            best = Math.Max(best, PltrdyRouge.RougeLF(prediction, string.Join(' ', jieba.Cut(reference))) ?? 0);
        }
        return best;
    }

    /// <summary>
    /// LongBenchCodeSimEvaluator: the first line of the prediction (leading newlines dropped) that contains
    /// none of '`', '#', '//' (empty if none), then the best fuzz.ratio/100 over the references.
    /// </summary>
    public static double CodeSimilarity(string prediction, IReadOnlyList<string> references)
    {
        double best = 0;
        foreach (var reference in references)
        {
            prediction = prediction.TrimStart('\n').Split('\n')
                .FirstOrDefault(line => !line.Contains('`') && !line.Contains('#') && !line.Contains("//")) ?? "";
            best = Math.Max(best, FuzzyWuzzy.Ratio(prediction, reference) / 100.0);
        }
        return best;
    }

    /// <summary>LongBenchCountEvaluator: per reference, the share of numbers in the prediction equal to it (summed over references).</summary>
    public static double Count(string prediction, IReadOnlyList<string> references)
    {
        var numbers = Regex.Matches(prediction, @"\d+").Select(m => m.Value).ToList();
        return references.Sum(r => numbers.Count == 0 ? 0.0 : (double)numbers.Count(n => n == r) / numbers.Count);
    }

    /// <summary>LongBenchRetrievalEvaluator: the reference's paragraph number ("Paragraph N" / "段落N") against every number in the prediction.</summary>
    public static double Retrieval(string prediction, IReadOnlyList<string> references, bool chinese)
    {
        var numbers = Regex.Matches(prediction, @"\d+").Select(m => m.Value).ToList();
        double score = 0;
        foreach (var reference in references)
        {
            var id = Regex.Match(reference, chinese ? @"段落(\d+)" : @"Paragraph (\d+)");
            if (!id.Success) throw new FormatException($"Retrieval reference '{reference}' names no paragraph.");
            score += numbers.Count == 0 ? 0.0 : (double)numbers.Count(n => n == id.Groups[1].Value) / numbers.Count;
        }
        return score;
    }

    /// <summary>
    /// LongBenchClassificationEvaluator, quirks included: classes found in the prediction; a match that is a
    /// proper substring of the reference is removed while the list is being iterated (so the element after a
    /// removed one is skipped, as Python's list iteration does); the score is 1/len(matches) when the reference
    /// is among them. The evaluator's difflib fallback sits behind `em_match_list != 0`, which is always true
    /// for a list, so it never runs — nor does it here.
    /// </summary>
    public static double Classification(string prediction, IReadOnlyList<string> references, IReadOnlyList<string> allClasses)
    {
        double score = 0;
        foreach (var reference in references)
        {
            var matches = allClasses.Where(c => prediction.Contains(c, StringComparison.Ordinal)).ToList();
            for (int i = 0; i < matches.Count; i++)
                if (reference.Contains(matches[i], StringComparison.Ordinal) && matches[i] != reference)
                    matches.RemoveAt(i); // Python's iterator index still advances: the next element is skipped.
            if (matches.Contains(reference)) score += 1.0 / matches.Count;
        }
        return score;
    }
}
