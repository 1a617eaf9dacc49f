using EdgeLlm.Evaluation.Text;

namespace EdgeLlm.Evaluation.Metrics;

/// <summary>
/// ROUGE-L F of the <c>rouge</c> package (pltrdy/rouge 1.0.1) as OpenCompass's LongBenchRougeEvaluator calls it:
/// <c>Rouge().get_scores([hyp], [ref], avg=True)["rouge-l"]["f"]</c>, with every exception scored 0.
/// </summary>
public static class PltrdyRouge
{
    /// <summary>
    /// Python frames on the stack when OpenCompass 0.3.1's eval task first enters the package's recursive
    /// <c>_recon</c>: the script module, OpenICLEvalTask.run, _score, the evaluator's score, Rouge.get_scores,
    /// _get_avg_scores, the metric lambda, rouge_l_summary_level, _union_lcs, _recon_lcs.
    /// </summary>
    public const int FramesBelowRecon = 10;

    /// <summary>CPython's default recursion limit: a call that would make frame 1001 raises RecursionError.</summary>
    public const int PythonRecursionLimit = 1000;

    /// <summary>
    /// The score, or null where the package raises (OpenCompass then scores 0): a text with no sentence
    /// (empty, or only '.'), or an LCS back-trace deeper than Python's recursion limit allows.
    /// Sentences are the non-empty pieces between '.', whitespace collapsed; words are split at ' '
    /// (so a blank sentence is the one word ""). With the package's default exclusive=True, counts are of
    /// distinct words: F over |∪ words of the traced LCS of each (reference sentence, hypothesis sentence)|
    /// against the distinct words of each side, with the package's 1e-8 in the denominator. Case is kept.
    /// </summary>
    public static double? RougeLF(string hypothesis, string reference)
    {
        var hypothesisSentences = Sentences(hypothesis);
        var referenceSentences = Sentences(reference);
        if (hypothesisSentences.Count == 0 || referenceSentences.Count == 0) return null;
        int referenceWords = referenceSentences.SelectMany(s => s).Distinct().Count();
        int hypothesisWords = hypothesisSentences.SelectMany(s => s).Distinct().Count();
        var union = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in referenceSentences)
            foreach (var h in hypothesisSentences)
                if (!AddTracedLcs(r, h, union)) return null;
        double recall = (double)union.Count / referenceWords;
        double precision = (double)union.Count / hypothesisWords;
        return 2.0 * ((precision * recall) / (precision + recall + 1e-8));
    }

    private static List<string[]> Sentences(string text) =>
        text.Split('.').Where(piece => piece.Length > 0)
            .Select(piece => string.Join(' ', PythonText.SplitWhitespace(piece)).Split(' ')).ToList();

    /// <summary>
    /// _recon_lcs(x, y): walks the LCS table back from the end, taking a match when the last words are equal,
    /// else the side whose table entry is strictly larger when dropping x's word, else dropping y's word.
    /// Returns false when the recursion would pass Python's limit.
    /// </summary>
    private static bool AddTracedLcs(string[] x, string[] y, HashSet<string> union)
    {
        int budget = PythonRecursionLimit - FramesBelowRecon; // calls of _recon that fit, the last one returning []
        if (Math.Min(x.Length, y.Length) + 1 > budget) return false; // every step lowers i or j by at most one
        int n = x.Length, m = y.Length, width = m + 1;
        var table = new int[(n + 1) * width];
        for (int i = 1; i <= n; i++)
            for (int j = 1; j <= m; j++)
                table[i * width + j] = x[i - 1] == y[j - 1] ? table[(i - 1) * width + j - 1] + 1
                    : Math.Max(table[(i - 1) * width + j], table[i * width + j - 1]);
        var words = new List<string>();
        int calls = 1, a = n, b = m;
        while (a > 0 && b > 0)
        {
            if (x[a - 1] == y[b - 1]) { words.Add(x[a - 1]); a--; b--; }
            else if (table[(a - 1) * width + b] > table[a * width + b - 1]) a--;
            else b--;
            if (++calls > budget) return false;
        }
        union.UnionWith(words);
        return true;
    }
}
