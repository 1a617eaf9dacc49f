namespace EdgeLlm.Tokenization;

/// <summary>
/// Cuts added tokens out of the raw text as Hugging Face does: leftmost match first, longest token at that
/// position, honouring single_word (no word character either side) and lstrip/rstrip (swallow adjacent
/// whitespace). Microsoft.ML.Tokenizers' special-token split takes the first listed token that matches and has
/// neither rule, so this stays ours.
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

    /// <summary>
    /// Appends each stretch of text between tokens (TokenId -1) and each token's own characters (with its id), in
    /// order; whitespace that a token strips belongs to neither.
    /// </summary>
    public void Split(string text, List<(int Start, int Length, int TokenId)> segments)
    {
        var textStart = 0;
        var pos = 0;
        while (pos < text.Length)
        {
            var match = MatchAt(text, pos);
            if (match is null)
            {
                pos++;
                continue;
            }
            var start = pos;
            var end = pos + match.Content.Length;
            if (match.LStrip)
                while (start > textStart && char.IsWhiteSpace(text[start - 1])) start--;
            if (match.RStrip)
                while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
            if (start > textStart) segments.Add((textStart, start - textStart, -1));
            segments.Add((pos, match.Content.Length, match.Id));
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
