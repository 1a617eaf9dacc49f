using EdgeLlm.Evaluation.Text;

namespace EdgeLlm.Evaluation.Metrics;

/// <summary>
/// fuzzywuzzy 0.18's <c>fuzz.ratio</c> on the python-Levenshtein path, which is what both Debian's
/// python3-fuzzywuzzy (it depends on python3-levenshtein) and OpenCompass's requirements install.
/// </summary>
public static class FuzzyWuzzy
{
    /// <summary>
    /// fuzz.ratio: 100 for equal strings (even both empty), 0 when one is empty, else
    /// round(100 · Levenshtein.ratio) with Python's half-to-even rounding. Levenshtein.ratio is
    /// (|a|+|b| − d)/(|a|+|b|) where d is the edit distance with substitutions costing 2, i.e.
    /// 2·LCS/(|a|+|b|), over code points. (The pure-Python difflib fallback, with its matching-block
    /// heuristic, gives different numbers and is not what users with python-Levenshtein get.)
    /// </summary>
    public static int Ratio(string s1, string s2)
    {
        if (s1 == s2) return 100;
        if (s1.Length == 0 || s2.Length == 0) return 0;
        var a = PythonText.CodePoints(s1);
        var b = PythonText.CodePoints(s2);
        int lengthSum = a.Length + b.Length;
        int distance = lengthSum - 2 * LongestCommonSubsequence(a, b);
        double ratio = (double)(lengthSum - distance) / lengthSum;
        return (int)Math.Round(100 * ratio, MidpointRounding.ToEven);
    }

    private static int LongestCommonSubsequence(int[] a, int[] b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
                current[j] = a[i - 1] == b[j - 1] ? previous[j - 1] + 1 : Math.Max(previous[j], current[j - 1]);
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
