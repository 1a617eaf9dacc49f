using System.Text.RegularExpressions;

namespace EdgeLlm.Tokenization;

/// <summary>
/// Split with an arbitrary pattern ("Isolated" behaviour: matches and the text between them are both pieces).
/// Fallback for patterns without a hand-written scanner; .NET regexes work on UTF-16 units, so classes like
/// <c>\p{L}</c> do not match astral-plane characters.
/// </summary>
internal sealed class RegexPreTokenizer(Regex regex) : IPreTokenizer
{
    public void Split(ReadOnlySpan<char> text, List<(int Start, int Length)> pieces)
    {
        var previous = 0;
        foreach (var match in regex.EnumerateMatches(text))
        {
            if (match.Length == 0) continue;
            if (match.Index > previous) pieces.Add((previous, match.Index - previous));
            pieces.Add((match.Index, match.Length));
            previous = match.Index + match.Length;
        }
        if (previous < text.Length) pieces.Add((previous, text.Length - previous));
    }
}
