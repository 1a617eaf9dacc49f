namespace EdgeLlm.Tokenization;

/// <summary>
/// Cuts added tokens out of the raw text: leftmost match first, longest token at that position,
/// honouring single_word (no word character either side) and lstrip/rstrip (swallow adjacent whitespace).
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly Dictionary<char, AddedToken[]> byFirstChar;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        byFirstChar = tokens
            .Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    /// <summary>Appends segments: TokenId -1 marks plain text to be pre-tokenized.</summary>
    public void Split(string text, List<(int Start, int Length, int TokenId)> segments)
    {
        var textStart = 0;
        var pos = 0;
        while (pos < text.Length)
        {
            var token = byFirstChar.Count == 0 ? null : MatchAt(text, pos);
            if (token is null)
            {
                pos++;
                continue;
            }
            var start = pos;
            var end = pos + token.Content.Length;
            if (token.LStrip)
                while (start > textStart && char.IsWhiteSpace(text[start - 1])) start--;
            if (token.RStrip)
                while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
            if (start > textStart) segments.Add((textStart, start - textStart, -1));
            segments.Add((start, end - start, token.Id));
            pos = textStart = end;
        }
        if (textStart < text.Length) segments.Add((textStart, text.Length - textStart, -1));
    }

    private AddedToken? MatchAt(string text, int pos)
    {
        if (!byFirstChar.TryGetValue(text[pos], out var candidates)) return null;
        var rest = text.AsSpan(pos);
        foreach (var token in candidates)
        {
            if (!rest.StartsWith(token.Content, StringComparison.Ordinal)) continue;
            if (token.SingleWord && !IsWholeWord(text, pos, pos + token.Content.Length)) continue;
            return token;
        }
        return null;
    }

    private static bool IsWholeWord(string text, int start, int end) =>
        (start == 0 || !IsWordChar(text[start - 1])) && (end == text.Length || !IsWordChar(text[end]));

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';
}
