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
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => Split(text);

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text.ToString());

    private List<(int Offset, int Length)> Split(string text)
    {
        var pieces = new List<(int Offset, int Length)>(text.Length / 4 + 1);
        if (addedTokens is null)
        {
            SplitPlain(text, 0, text.Length, pieces);
            return pieces;
        }
        var segments = new List<(int Start, int Length, bool IsToken)>();
        addedTokens.Split(text, segments);
        foreach (var (start, length, isToken) in segments)
        {
            if (isToken) pieces.Add((start, length));
            else SplitPlain(text, start, length, pieces);
        }
        return pieces;
    }

    private void SplitPlain(string text, int start, int length, List<(int Offset, int Length)> pieces)
    {
        if (stages.Count == 0)
        {
            pieces.Add((start, length));
            return;
        }
        var first = pieces.Count;
        stages[0].Split(text.AsSpan(start, length), pieces);
        for (var i = first; i < pieces.Count; i++) pieces[i] = (pieces[i].Offset + start, pieces[i].Length);
        for (var stage = 1; stage < stages.Count; stage++)
        {
            var previous = pieces.GetRange(first, pieces.Count - first);
            pieces.RemoveRange(first, pieces.Count - first);
            foreach (var (s, l) in previous)
            {
                var from = pieces.Count;
                stages[stage].Split(text.AsSpan(s, l), pieces);
                for (var i = from; i < pieces.Count; i++) pieces[i] = (pieces[i].Offset + s, pieces[i].Length);
            }
        }
    }
}
