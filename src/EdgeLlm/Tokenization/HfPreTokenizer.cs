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
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        var pieces = new List<Piece>(text.Length / 4 + 1);
        Split(text, pieces);
        return pieces.Select(p => (p.Offset, p.Length));
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => PreTokenize(text.ToString());

    /// <summary>Appends the pieces of <paramref name="text"/> in order; an added token's piece carries its id.</summary>
    public void Split(string text, List<Piece> pieces)
    {
        if (addedTokens is null)
        {
            SplitPlain(text, 0, text.Length, pieces);
            return;
        }
        var segments = new List<(int Start, int Length, int TokenId)>();
        addedTokens.Split(text, segments);
        foreach (var (start, length, tokenId) in segments)
        {
            if (tokenId >= 0) pieces.Add(new Piece(start, length, tokenId));
            else SplitPlain(text, start, length, pieces);
        }
    }

    private void SplitPlain(string text, int start, int length, List<Piece> pieces)
    {
        if (stages.Count == 0)
        {
            pieces.Add(new Piece(start, length, -1));
            return;
        }
        var current = new List<(int Start, int Length)>();
        stages[0].Split(text.AsSpan(start, length), current);
        for (var stage = 1; stage < stages.Count; stage++)
        {
            var refined = new List<(int Start, int Length)>(current.Count);
            var sub = new List<(int Start, int Length)>();
            foreach (var (s, l) in current)
            {
                sub.Clear();
                stages[stage].Split(text.AsSpan(start + s, l), sub);
                foreach (var (ss, sl) in sub) refined.Add((s + ss, sl));
            }
            current = refined;
        }
        foreach (var (s, l) in current) pieces.Add(new Piece(start + s, l, -1));
    }

    /// <param name="TokenId">The added token's id, or -1 for text that BPE encodes.</param>
    internal readonly record struct Piece(int Offset, int Length, int TokenId);
}
