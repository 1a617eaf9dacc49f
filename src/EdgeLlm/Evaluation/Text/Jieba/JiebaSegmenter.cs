namespace EdgeLlm.Evaluation.Text.Jieba;

/// <summary>
/// A re-implementation of jieba 0.42.1's <c>jieba.cut(text, cut_all=False, HMM=True)</c>, reading jieba's own
/// dictionary and HMM tables from the installed Python package (see <see cref="JiebaFiles"/>). Text is split
/// into runs of "Han" characters (CJK U+4E00–U+9FD5, ASCII letters and digits, and + # &amp; . _ % -) and the
/// rest; a Han run is segmented along the most probable path through the dictionary's word graph, with
/// runs of single characters that do not form a dictionary word handed to the HMM; outside Han runs,
/// "\r\n" and each whitespace character are tokens and every other character is a token of its own.
/// </summary>
public sealed class JiebaSegmenter
{
    private static readonly Lazy<JiebaSegmenter> shared = new(() => Load(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly JiebaDictionary dictionary;
    private readonly JiebaHmm hmm;
    private readonly double logTotal;

    private JiebaSegmenter(JiebaDictionary dictionary, JiebaHmm hmm)
    {
        this.dictionary = dictionary;
        this.hmm = hmm;
        logTotal = Math.Log(dictionary.Total);
    }

    /// <summary>The segmenter over the default jieba folder, loaded on first use (once, thread-safe).</summary>
    public static JiebaSegmenter Default => shared.Value;

    /// <summary>Loads jieba's data from <paramref name="folder"/>, $EDGELLM_JIEBA_DIR, or Debian's python3-jieba folder.</summary>
    public static JiebaSegmenter Load(string? folder = null)
    {
        var located = JiebaFiles.Locate(folder);
        return new JiebaSegmenter(JiebaDictionary.Load(Path.Combine(located, "dict.txt")), JiebaHmm.Load(located));
    }

    /// <summary>The characters jieba's re_han_default gathers into blocks for the dictionary.</summary>
    internal static bool IsHanDefault(char c) => IsHan(c) || char.IsAsciiLetterOrDigit(c) || c is '+' or '#' or '&' or '.' or '_' or '%' or '-';

    /// <summary>finalseg's re_han: CJK Unified Ideographs up to U+9FD5.</summary>
    internal static bool IsHan(char c) => c is >= '\u4E00' and <= '\u9FD5';

    /// <summary>The tokens of <c>jieba.cut(text)</c>, in order; they concatenate back to the text.</summary>
    public IReadOnlyList<string> Cut(string text)
    {
        var tokens = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            int end = i;
            if (IsHanDefault(text[i]))
            {
                while (end < text.Length && IsHanDefault(text[end])) end++;
                CutBlock(text.Substring(i, end - i), tokens);
            }
            else
            {
                while (end < text.Length && !IsHanDefault(text[end])) end++;
                SplitOther(text.AsSpan(i, end - i), tokens);
            }
            i = end;
        }
        return tokens;
    }

    // re_skip_default, (\r\n|\s), splits the block; separators are tokens, other characters one each.
    private static void SplitOther(ReadOnlySpan<char> block, List<string> tokens)
    {
        int i = 0;
        while (i < block.Length)
        {
            int length = block[i] == '\r' && i + 1 < block.Length && block[i + 1] == '\n' ? 2
                : char.IsHighSurrogate(block[i]) && i + 1 < block.Length && char.IsLowSurrogate(block[i + 1]) ? 2 : 1;
            tokens.Add(block.Slice(i, length).ToString());
            i += length;
        }
    }

    // __cut_DAG: the best route; consecutive single characters are buffered and, when they do not form a
    // dictionary word, segmented by the HMM.
    private void CutBlock(string block, List<string> tokens)
    {
        var routeEnd = BestRoute(block);
        int bufferStart = -1, x = 0;
        while (x < block.Length)
        {
            int y = routeEnd[x] + 1;
            if (y - x == 1)
            {
                if (bufferStart < 0) bufferStart = x;
            }
            else
            {
                if (bufferStart >= 0) FlushSingles(block, bufferStart, x, tokens);
                bufferStart = -1;
                tokens.Add(block[x..y]);
            }
            x = y;
        }
        if (bufferStart >= 0) FlushSingles(block, bufferStart, block.Length, tokens);
    }

    private void FlushSingles(string block, int start, int end, List<string> tokens)
    {
        var buffer = block[start..end];
        if (buffer.Length == 1) tokens.Add(buffer);
        else if (dictionary.Frequency(buffer) == 0) hmm.Cut(buffer, tokens);
        else foreach (var c in buffer) tokens.Add(c.ToString());
    }

    /// <summary>
    /// calc over get_DAG: for each start, the end of the word on the path of highest summed log-probability
    /// to the end of the block (computed right to left; ties go to the longer word, as Python's max over
    /// (score, end) tuples does).
    /// </summary>
    private int[] BestRoute(string block)
    {
        int n = block.Length;
        var score = new double[n + 1];
        var end = new int[n + 1];
        var span = block.AsSpan();
        var ends = new List<int>();
        for (int k = n - 1; k >= 0; k--)
        {
            ends.Clear();
            for (int i = k; i < n && dictionary.Contains(span[k..(i + 1)]); i++)
                if (dictionary.Frequency(span[k..(i + 1)]) > 0) ends.Add(i);
            if (ends.Count == 0) ends.Add(k);
            double best = 0;
            int bestEnd = -1;
            foreach (var x in ends)
            {
                long frequency = dictionary.Frequency(span[k..(x + 1)]);
                double candidate = Math.Log(frequency == 0 ? 1 : frequency) - logTotal + score[x + 1];
                if (bestEnd < 0 || candidate >= best) { best = candidate; bestEnd = x; }
            }
            score[k] = best;
            end[k] = bestEnd;
        }
        return end;
    }
}
