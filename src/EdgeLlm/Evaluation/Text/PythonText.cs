namespace EdgeLlm.Evaluation.Text;

/// <summary>
/// Python 3 <c>str</c> semantics the reference metrics rely on: strings are sequences of code points
/// (not UTF-16 units), and <c>str.split()</c> / regex <c>\s</c> use <c>str.isspace()</c>'s whitespace.
/// </summary>
public static class PythonText
{
    /// <summary>str.isspace() for one code point (CPython's table: bidi classes WS, B, S and category Zs).</summary>
    public static bool IsSpace(int codePoint) => codePoint switch
    {
        >= 0x09 and <= 0x0D or >= 0x1C and <= 0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>str.split() with no separator: runs of whitespace separate, no empty pieces.</summary>
    public static List<string> SplitWhitespace(string s)
    {
        var pieces = new List<string>();
        int start = -1;
        for (int i = 0; i < s.Length; i++)
        {
            bool space = IsSpace(s[i]); // every Python whitespace code point is in the BMP
            if (space && start >= 0) { pieces.Add(s[start..i]); start = -1; }
            else if (!space && start < 0) start = i;
        }
        if (start >= 0) pieces.Add(s[start..]);
        return pieces;
    }

    /// <summary>The string as Python indexes it: one element per code point.</summary>
    public static int[] CodePoints(string s)
    {
        var points = new List<int>(s.Length);
        foreach (var rune in s.EnumerateRunes()) points.Add(rune.Value);
        return [.. points];
    }

    /// <summary>The string's code points as one-element strings (Python's <c>for ch in s</c>).</summary>
    public static IEnumerable<string> Characters(string s)
    {
        foreach (var rune in s.EnumerateRunes()) yield return rune.ToString();
    }
}
