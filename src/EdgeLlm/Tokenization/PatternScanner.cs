namespace EdgeLlm.Tokenization;

/// <summary>A hand-written split pattern: pieces are consecutive matches, each found by <see cref="MatchEnd"/>.</summary>
internal abstract class PatternScanner : IPreTokenizer
{
    public void Split(ReadOnlySpan<char> text, List<(int Start, int Length)> pieces)
    {
        var i = 0;
        while (i < text.Length)
        {
            var end = MatchEnd(text, i);
            pieces.Add((i, end - i));
            i = end;
        }
    }

    /// <summary>Where the pattern's match starting at <paramref name="i"/> ends (always past <paramref name="i"/>).</summary>
    protected abstract int MatchEnd(ReadOnlySpan<char> text, int i);
}
