namespace EdgeLlm.Tokenization;

/// <summary>
/// Hand-written equivalent of GPT-2's split regex
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>
/// over code points (a .NET regex would see astral letters as two non-letters).
/// </summary>
internal sealed class Gpt2PatternScanner : PatternScanner
{
    public const string Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    protected override int MatchEnd(ReadOnlySpan<char> text, int i)
    {
        var c = text[i];
        if (c == '\'')
        {
            var n = ContractionLength(text, i, ignoreCase: false);
            if (n > 0) return i + n;
        }
        var kind = CharClass.KindAt(text, i, out var len);
        if (c == ' ' && i + 1 < text.Length)
        {
            var next = CharClass.KindAt(text, i + 1, out _);
            if (next != CharKind.Space) return CharClass.RunEnd(text, i + 1, next);
        }
        if (kind != CharKind.Space) return CharClass.RunEnd(text, i + len, kind);
        return WhitespaceEnd(text, i);
    }

    /// <summary><c>\s+(?!\S)|\s+</c>: a run followed by a non-space leaves its last char to prefix the next piece.</summary>
    internal static int WhitespaceEnd(ReadOnlySpan<char> text, int i)
    {
        var j = CharClass.RunEnd(text, i, CharKind.Space);
        if (j == text.Length) return j;
        return j - i >= 2 ? j - 1 : j;
    }

    /// <summary>Length of <c>'s|'t|'re|'ve|'m|'ll|'d</c> at <paramref name="i"/> (0 when none); ASCII-only case folding.</summary>
    internal static int ContractionLength(ReadOnlySpan<char> text, int i, bool ignoreCase)
    {
        if (i + 1 >= text.Length) return 0;
        var a = Fold(text[i + 1], ignoreCase);
        if (a is 's' or 't' or 'm' or 'd') return 2;
        if (i + 2 >= text.Length) return 0;
        var b = Fold(text[i + 2], ignoreCase);
        return (a, b) is ('r', 'e') or ('v', 'e') or ('l', 'l') ? 3 : 0;
    }

    private static char Fold(char c, bool ignoreCase) => ignoreCase && c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}
