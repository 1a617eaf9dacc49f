using System.Globalization;
using System.Text;

namespace EdgeLlm.Tokenization;

internal enum CharKind : byte { Letter, Number, Space, Other }

/// <summary>
/// Code-point classes used by the GPT-2 / cl100k-style split patterns, with the semantics of a JavaScript
/// <c>u</c>-flag regex (what transformers.js uses): <c>\p{L}</c>, <c>\p{N}</c>, and ECMAScript <c>\s</c>.
/// Works on whole code points, so astral letters (e.g. U+20000) count as letters.
/// </summary>
internal static class CharClass
{
    private static readonly CharKind[] Latin1 = BuildLatin1();

    public static CharKind Classify(int codePoint)
    {
        if (codePoint < Latin1.Length) return Latin1[codePoint];
        if (IsEcmaSpace(codePoint)) return CharKind.Space;
        if (codePoint >= 0xD800 && codePoint <= 0xDFFF) return CharKind.Other; // lone surrogate
        return FromCategory(Rune.GetUnicodeCategory(new Rune(codePoint)));
    }

    /// <summary>Reads the code point at <paramref name="index"/>; a lone surrogate is returned as itself, length 1.</summary>
    public static int Read(ReadOnlySpan<char> text, int index, out int length)
    {
        var c = text[index];
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            length = 2;
            return char.ConvertToUtf32(c, text[index + 1]);
        }
        length = 1;
        return c;
    }

    public static CharKind KindAt(ReadOnlySpan<char> text, int index, out int length) =>
        Classify(Read(text, index, out length));

    /// <summary>End index of the run of <paramref name="kind"/> code points starting at <paramref name="index"/>.</summary>
    public static int RunEnd(ReadOnlySpan<char> text, int index, CharKind kind)
    {
        while (index < text.Length)
        {
            if (KindAt(text, index, out var len) != kind) break;
            index += len;
        }
        return index;
    }

    private static bool IsEcmaSpace(int c) =>
        c is '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or 0xA0 or 0x1680 or 0x2028 or 0x2029 or 0x202F or 0x205F
            or 0x3000 or 0xFEFF
        || (c >= 0x2000 && c <= 0x200A);

    private static CharKind FromCategory(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharKind.Letter,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharKind.Number,
        _ => CharKind.Other,
    };

    private static CharKind[] BuildLatin1()
    {
        var table = new CharKind[256];
        for (var c = 0; c < 256; c++)
            table[c] = IsEcmaSpace(c) ? CharKind.Space : FromCategory(CharUnicodeInfo.GetUnicodeCategory((char)c));
        return table;
    }
}
