namespace EdgeLlm.Tokenization;

/// <summary>
/// The pre-tokenizer handed to Microsoft.ML.Tokenizers: added tokens are cut out first (each becomes one piece,
/// which the library maps to its id), then every split stage runs in turn over the text between them, as a
/// tokenizer.json Sequence does. Text that belongs to no piece (whitespace an lstrip/rstrip token swallowed) is
/// skipped by the library.
/// </summary>
internal sealed class HfPreTokenizer(AddedTokenSplitter? addedTokens, IReadOnlyList<IPreTokenizer> stages)
    : Microsoft.ML.Tokenizers.PreTokenizer
{
    public AddedTokenSplitter? AddedTokens { get; } = addedTokens;

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        var result = new List<(int Offset, int Length)>(text.Length / 4 + 1);
        if (AddedTokens is null)
        {
            SplitPlain(text, result);
            return result;
        }
        var segments = new List<(int Start, int Length, int TokenId)>();
        AddedTokens.Split(text, segments);
        var pieces = new List<(int Start, int Length)>();
        foreach (var (start, length, tokenId) in segments)
        {
            if (tokenId >= 0)
            {
                result.Add((start, length));
                continue;
            }
            pieces.Clear();
            SplitPlain(text.AsSpan(start, length), pieces);
            foreach (var (s, l) in pieces) result.Add((start + s, l));
        }
        return result;
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => PreTokenize(text.ToString());

    /// <summary>Appends the pieces of text that holds no added token, relative to its start.</summary>
    public void SplitPlain(ReadOnlySpan<char> text, List<(int Start, int Length)> pieces)
    {
        if (stages.Count == 0)
        {
            pieces.Add((0, text.Length));
            return;
        }
        var first = pieces.Count;
        stages[0].Split(text, pieces);
        if (stages.Count == 1) return;
        var current = pieces.GetRange(first, pieces.Count - first);
        pieces.RemoveRange(first, pieces.Count - first);
        for (var stage = 1; stage < stages.Count; stage++)
        {
            var refined = new List<(int Start, int Length)>(current.Count);
            var sub = new List<(int Start, int Length)>();
            foreach (var (s, l) in current)
            {
                sub.Clear();
                stages[stage].Split(text.Slice(s, l), sub);
                foreach (var (ss, sl) in sub) refined.Add((s + ss, sl));
            }
            current = refined;
        }
        pieces.AddRange(current);
    }
}
