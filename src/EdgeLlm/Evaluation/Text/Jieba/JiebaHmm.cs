namespace EdgeLlm.Evaluation.Text.Jieba;

/// <summary>
/// jieba's finalseg: a four-state (Begin, Middle, End, Single) HMM that segments runs of characters the
/// dictionary does not cover, decoded with Viterbi over the tables in finalseg/prob_*.py.
/// </summary>
internal sealed class JiebaHmm
{
    private const double MinFloat = -3.14e100; // finalseg's stand-in for log(0)
    // States in the order finalseg iterates them; ties between equal scores go to the larger state letter
    // because Python compares (score, state) tuples, and 'B' < 'E' < 'M' < 'S'.
    private const int B = 0, M = 1, E = 2, S = 3;
    private static readonly char[] Letters = ['B', 'M', 'E', 'S'];
    private static readonly int[][] Previous = [[E, S], [M, B], [B, M], [S, E]];

    private readonly double[] start = new double[4];
    private readonly double[,] transition = new double[4, 4];
    private readonly Dictionary<char, double>[] emission = new Dictionary<char, double>[4];

    private JiebaHmm() { }

    public static JiebaHmm Load(string folder)
    {
        var hmm = new JiebaHmm();
        string Table(string name) => Path.Combine(folder, "finalseg", name);
        var start = PythonDictLiteral.ReadAssignment(Table("prob_start.py"));
        var transition = PythonDictLiteral.ReadAssignment(Table("prob_trans.py"));
        var emission = PythonDictLiteral.ReadAssignment(Table("prob_emit.py"));
        for (int y = 0; y < 4; y++)
        {
            var state = Letters[y].ToString();
            hmm.start[y] = Number(start, state, Table("prob_start.py"));
            var row = Nested(transition, state, Table("prob_trans.py"));
            for (int to = 0; to < 4; to++)
                hmm.transition[y, to] = row.TryGetValue(Letters[to].ToString(), out var p) ? (double)p : MinFloat;
            hmm.emission[y] = Nested(emission, state, Table("prob_emit.py"))
                .Where(kv => kv.Key.Length == 1).ToDictionary(kv => kv.Key[0], kv => (double)kv.Value);
        }
        return hmm;
    }

    private static double Number(Dictionary<string, object> table, string key, string path) =>
        table.TryGetValue(key, out var v) && v is double d ? d : throw new FormatException($"{path}: no number for state '{key}'.");

    private static Dictionary<string, object> Nested(Dictionary<string, object> table, string key, string path) =>
        table.TryGetValue(key, out var v) && v is Dictionary<string, object> d ? d : throw new FormatException($"{path}: no table for state '{key}'.");

    /// <summary>finalseg.cut: Han runs through Viterbi; other runs split into alphanumeric tokens (with an optional decimal part and %) and the rest.</summary>
    public void Cut(string sentence, List<string> output)
    {
        int i = 0;
        while (i < sentence.Length)
        {
            int end = i;
            bool han = JiebaSegmenter.IsHan(sentence[i]);
            while (end < sentence.Length && JiebaSegmenter.IsHan(sentence[end]) == han) end++;
            if (han) CutHan(sentence.AsSpan(i, end - i), output);
            else SplitAlphanumeric(sentence.AsSpan(i, end - i), output);
            i = end;
        }
    }

    // finalseg's re_skip, ([a-zA-Z0-9]+(?:\.\d+)?%?), used to split: matches and the text between them are the tokens.
    private static void SplitAlphanumeric(ReadOnlySpan<char> block, List<string> output)
    {
        int pending = 0, i = 0;
        while (i < block.Length)
        {
            if (!char.IsAsciiLetterOrDigit(block[i])) { i++; continue; }
            if (i > pending) output.Add(block[pending..i].ToString());
            int end = i;
            while (end < block.Length && char.IsAsciiLetterOrDigit(block[end])) end++;
            if (end + 1 < block.Length && block[end] == '.' && char.IsDigit(block[end + 1]))
            {
                end += 2;
                while (end < block.Length && char.IsDigit(block[end])) end++;
            }
            if (end < block.Length && block[end] == '%') end++;
            output.Add(block[i..end].ToString());
            pending = i = end;
        }
        if (block.Length > pending) output.Add(block[pending..].ToString());
    }

    private void CutHan(ReadOnlySpan<char> sentence, List<string> output)
    {
        var states = Viterbi(sentence);
        int begin = 0, next = 0;
        for (int i = 0; i < sentence.Length; i++)
        {
            switch (states[i])
            {
                case B: begin = i; break;
                case E: output.Add(sentence[begin..(i + 1)].ToString()); next = i + 1; break;
                case S: output.Add(sentence[i].ToString()); next = i + 1; break;
            }
        }
        if (next < sentence.Length) output.Add(sentence[next..].ToString());
    }

    private int[] Viterbi(ReadOnlySpan<char> observed)
    {
        int n = observed.Length;
        var score = new double[n, 4];
        var from = new int[n, 4];
        for (int y = 0; y < 4; y++) score[0, y] = start[y] + Emit(y, observed[0]);
        for (int t = 1; t < n; t++)
        {
            for (int y = 0; y < 4; y++)
            {
                double emit = Emit(y, observed[t]);
                int best = -1;
                double bestScore = 0;
                foreach (var y0 in Previous[y])
                {
                    double candidate = score[t - 1, y0] + transition[y0, y] + emit;
                    if (best < 0 || candidate > bestScore || (candidate == bestScore && Letters[y0] > Letters[best]))
                    {
                        best = y0;
                        bestScore = candidate;
                    }
                }
                score[t, y] = bestScore;
                from[t, y] = best;
            }
        }
        int last = score[n - 1, S] >= score[n - 1, E] ? S : E; // ties go to 'S'
        var states = new int[n];
        for (int t = n - 1; t >= 0; t--)
        {
            states[t] = last;
            last = from[t, last];
        }
        return states;
    }

    private double Emit(int state, char c) => emission[state].TryGetValue(c, out var p) ? p : MinFloat;
}
