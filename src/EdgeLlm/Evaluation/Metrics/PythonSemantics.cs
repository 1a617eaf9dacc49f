using System.Globalization;
using System.Numerics;
using System.Text;

namespace EdgeLlm.Evaluation.Metrics;

/// <summary>
/// The few Python built-ins whose behaviour OpenCompass's scoring depends on, where .NET's nearest
/// equivalent differs on some input: str.isspace/strip/split, str.isupper, float(), int() and round(x, n).
/// </summary>
public static class PythonSemantics
{
    /// <summary>str.isspace for one character: .NET's char.IsWhiteSpace plus U+001C–U+001F (Python counts the separators).</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001c' and <= '\u001f';

    /// <summary>str.strip() with no argument.</summary>
    public static string Strip(string s)
    {
        int start = 0, end = s.Length;
        while (start < end && IsSpace(s[start])) start++;
        while (end > start && IsSpace(s[end - 1])) end--;
        return s[start..end];
    }

    /// <summary>str.split() with no argument: runs of whitespace separate, no empty pieces.</summary>
    public static string[] Split(string s)
    {
        var pieces = new List<string>();
        int i = 0;
        while (i < s.Length)
        {
            while (i < s.Length && IsSpace(s[i])) i++;
            int start = i;
            while (i < s.Length && !IsSpace(s[i])) i++;
            if (i > start) pieces.Add(s[start..i]);
        }
        return pieces.ToArray();
    }

    /// <summary>
    /// str.isupper for one code point: Unicode's Uppercase property, i.e. category Lu plus Other_Uppercase
    /// (circled capitals Ⓐ–Ⓩ, Roman numerals Ⅰ–Ⅿ, squared and enclosed capitals 🄰–🆉); title-case letters are not upper.
    /// </summary>
    public static bool IsUpper(Rune r) =>
        Rune.GetUnicodeCategory(r) == UnicodeCategory.UppercaseLetter
        || r.Value is >= 0x2160 and <= 0x216F or >= 0x24B6 and <= 0x24CF
            or >= 0x1F130 and <= 0x1F149 or >= 0x1F150 and <= 0x1F169 or >= 0x1F170 and <= 0x1F189;

    /// <summary>float(s): surrounding whitespace, any Unicode decimal digits, '_' between digits, inf/nan; null where Python raises.</summary>
    public static double? Float(string s)
    {
        var t = AsciiDigits(Strip(s));
        if (t == null) return null;
        var lower = t.ToLowerInvariant().TrimStart('+', '-');
        if (lower is "inf" or "infinity" or "nan" && t.Length - lower.Length <= 1)
            return lower == "nan" ? double.NaN : t[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
        if (t.Any(c => !(char.IsAsciiDigit(c) || c is '+' or '-' or '.' or 'e' or 'E'))) return null;
        return double.TryParse(t, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
            CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    /// <summary>int(s) (base 10): surrounding whitespace, an optional sign, Unicode decimal digits, '_' between digits; null where Python raises.</summary>
    public static BigInteger? Int(string s)
    {
        var t = AsciiDigits(Strip(s));
        if (t == null) return null;
        var digits = t.Length > 0 && t[0] is '+' or '-' ? t[1..] : t;
        if (digits.Length == 0 || !digits.All(char.IsAsciiDigit)) return null;
        return BigInteger.Parse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// round(x, digits): the exact binary value rounded half-to-even at that decimal place (Python rounds the
    /// exact value; Math.Round scales by 10^digits first, which is inexact: round(0.12345, 4) is 0.1235, Math.Round gives 0.1234).
    /// </summary>
    public static double Round(double x, int digits)
    {
        if (double.IsNaN(x) || double.IsInfinity(x) || x == 0) return x;
        long bits = BitConverter.DoubleToInt64Bits(x);
        int exponent = (int)((bits >> 52) & 0x7FF);
        long mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent++; else mantissa |= 1L << 52;
        exponent -= 1075; // |x| = mantissa · 2^exponent exactly
        var scale = BigInteger.Pow(10, digits);
        BigInteger numerator = mantissa * scale, denominator = BigInteger.One;
        if (exponent >= 0) numerator <<= exponent; else denominator <<= -exponent;
        var quotient = BigInteger.DivRem(numerator, denominator, out var remainder);
        int half = (remainder * 2).CompareTo(denominator);
        if (half > 0 || (half == 0 && !quotient.IsEven)) quotient += 1;
        // quotient / 10^digits, correctly rounded to a double (as Python's conversion of the rounded decimal string).
        double result = double.Parse(quotient.ToString(CultureInfo.InvariantCulture) + "e-" + digits, CultureInfo.InvariantCulture);
        return x < 0 ? -result : result;
    }

    // Unicode decimal digits → ASCII, and Python's single '_' between two digits removed; null for a misplaced '_'.
    private static string? AsciiDigits(string s)
    {
        var b = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '_')
            {
                bool between = i > 0 && i + 1 < s.Length && IsDigit(s[i - 1]) && IsDigit(s[i + 1]);
                if (!between) return null;
                continue;
            }
            int d = CharUnicodeInfo.GetDecimalDigitValue(c);
            b.Append(d >= 0 && char.GetUnicodeCategory(c) == UnicodeCategory.DecimalDigitNumber ? (char)('0' + d) : c);
        }
        return b.ToString();
    }

    private static bool IsDigit(char c) => char.GetUnicodeCategory(c) == UnicodeCategory.DecimalDigitNumber;
}
