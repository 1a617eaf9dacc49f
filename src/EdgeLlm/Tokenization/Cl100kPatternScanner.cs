namespace EdgeLlm.Tokenization;

/// <summary>
/// Hand-written equivalent of the cl100k-style split regex used by Llama-3 and Qwen:
/// <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,k}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>
/// where k is 3 (Llama-3) or 1 (Qwen, written <c>\p{N}</c>).
/// </summary>
internal sealed class Cl100kPatternScanner(int maxDigits) : PatternScanner
{
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public const string QwenPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    protected override int MatchEnd(ReadOnlySpan<char> text, int i)
    {
        var c = text[i];
        if (c == '\'')
        {
            var n = Gpt2PatternScanner.ContractionLength(text, i, ignoreCase: true);
            if (n > 0) return i + n;
        }
        var kind = CharClass.KindAt(text, i, out var len);
        if (kind == CharKind.Letter) return CharClass.RunEnd(text, i + len, CharKind.Letter);

        var hasNext = i + len < text.Length;
        var next = hasNext ? CharClass.KindAt(text, i + len, out _) : CharKind.Other;
        if (kind != CharKind.Number && c != '\r' && c != '\n' && hasNext && next == CharKind.Letter)
            return CharClass.RunEnd(text, i + len, CharKind.Letter);

        if (kind == CharKind.Number)
        {
            var end = i + len;
            for (var taken = 1; taken < maxDigits && end < text.Length; taken++)
            {
                if (CharClass.KindAt(text, end, out var l) != CharKind.Number) break;
                end += l;
            }
            return end;
        }

        var symbolsFrom = kind == CharKind.Other ? i : c == ' ' && hasNext && next == CharKind.Other ? i + 1 : -1;
        if (symbolsFrom >= 0)
        {
            var end = CharClass.RunEnd(text, symbolsFrom, CharKind.Other);
            while (end < text.Length && text[end] is '\r' or '\n') end++;
            return end;
        }

        // Whitespace: \s*[\r\n]+ ends just after the run's last line break, if it has one.
        var runEnd = CharClass.RunEnd(text, i, CharKind.Space);
        for (var k = runEnd - 1; k >= i; k--)
            if (text[k] is '\r' or '\n') return k + 1;
        return Gpt2PatternScanner.WhitespaceEnd(text, i);
    }
}
