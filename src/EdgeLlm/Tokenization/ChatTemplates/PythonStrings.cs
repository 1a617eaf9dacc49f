using System.Globalization;
using System.Text;

namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>The Python str behaviour templates rely on: whitespace, code-point length and slicing, and str methods.</summary>
internal static class PythonStrings
{
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';

    public static IEnumerable<string> CodePoints(string s)
    {
        for (int i = 0; i < s.Length; i++)
            yield return char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? s.Substring(i++, 2) : s[i].ToString();
    }

    public static int Length(string s) => s.Any(char.IsSurrogate) ? CodePoints(s).Count() : s.Length;

    public static string Strip(string s, string? chars, bool left, bool right)
    {
        Func<char, bool> strip = chars == null ? IsSpace : chars.Contains;
        int start = 0, end = s.Length;
        if (left) while (start < end && strip(s[start])) start++;
        if (right) while (end > start && strip(s[end - 1])) end--;
        return s[start..end];
    }

    /// <summary>str.split(sep, maxsplit): without sep, runs of whitespace separate and empty pieces are dropped.</summary>
    public static List<object?> Split(string s, string? sep, long maxSplit)
    {
        var parts = new List<object?>();
        if (sep == null)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && IsSpace(s[i])) i++;
                if (i >= s.Length) break;
                if (maxSplit >= 0 && parts.Count == maxSplit) { parts.Add(Strip(s[i..], null, false, true)); break; }
                int j = i;
                while (j < s.Length && !IsSpace(s[j])) j++;
                parts.Add(s[i..j]);
                i = j;
            }
            return parts;
        }
        if (sep.Length == 0) throw new TemplateRuntimeError("empty separator");
        int from = 0;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            int at = s.IndexOf(sep, from, StringComparison.Ordinal);
            if (at < 0) break;
            parts.Add(s[from..at]);
            from = at + sep.Length;
        }
        parts.Add(s[from..]);
        return parts;
    }

    public static string Title(string s)
    {
        var b = new StringBuilder(s.Length);
        bool previousCased = false;
        foreach (char c in s)
        {
            b.Append(previousCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousCased = char.IsLetter(c);
        }
        return b.ToString();
    }

    public static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    /// <summary>A bound method of a string, or null when str has no such (supported) method.</summary>
    public static CallableValue? Method(string s, string name)
    {
        Func<List<object?>, List<(string, object?)>, object?>? f = name switch
        {
            "startswith" => (a, _) => Affix(a, p => s.StartsWith(p, StringComparison.Ordinal)),
            "endswith" => (a, _) => Affix(a, p => s.EndsWith(p, StringComparison.Ordinal)),
            "strip" => (a, _) => Strip(s, OptionalString(a, 0), true, true),
            "lstrip" => (a, _) => Strip(s, OptionalString(a, 0), true, false),
            "rstrip" => (a, _) => Strip(s, OptionalString(a, 0), false, true),
            "split" => (a, k) => Split(s, OptionalString(a, 0) ?? KwString(k, "sep"), a.Count > 1 ? (long)a[1]! : -1),
            "upper" => (_, _) => s.ToUpperInvariant(),
            "lower" => (_, _) => s.ToLowerInvariant(),
            "title" => (_, _) => Title(s),
            "capitalize" => (_, _) => Capitalize(s),
            "replace" => (a, _) => Replace(s, (string)a[0]!, (string)a[1]!, a.Count > 2 ? (long)a[2]! : -1),
            "find" => (a, _) => (long)s.IndexOf((string)a[0]!, StringComparison.Ordinal),
            "rfind" => (a, _) => (long)s.LastIndexOf((string)a[0]!, StringComparison.Ordinal),
            "count" => (a, _) => (long)CountOf(s, (string)a[0]!),
            "join" => (a, _) => string.Join(s, (TemplateValues.Iterate(a[0]) ?? throw new TemplateRuntimeError("join() needs an iterable")).Select(TemplateValues.Str)),
            "isdigit" => (_, _) => s.Length > 0 && s.All(char.IsDigit),
            "isalpha" => (_, _) => s.Length > 0 && s.All(char.IsLetter),
            "isspace" => (_, _) => s.Length > 0 && s.All(IsSpace),
            "islower" => (_, _) => s.Any(char.IsLetter) && !s.Any(char.IsUpper),
            "isupper" => (_, _) => s.Any(char.IsLetter) && !s.Any(char.IsLower),
            _ => null,
        };
        return f == null ? null : new CallableValue("str." + name, f);
    }

    private static string? KwString(List<(string Name, object? Value)> kwargs, string name) =>
        kwargs.FirstOrDefault(k => k.Name == name).Value as string;

    private static string? OptionalString(List<object?> args, int i) => i < args.Count ? args[i] as string : null;

    private static bool Affix(List<object?> args, Func<string, bool> test) => args.Count > 0 && args[0] switch
    {
        string p => test(p),
        object?[] t => t.Any(p => p is string x && test(x)),
        _ => throw new TemplateRuntimeError("startswith/endswith take a string or a tuple of strings"),
    };

    private static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0) return old.Length == 0 ? string.Concat(CodePoints(s).Select(c => replacement + c)) + replacement : s.Replace(old, replacement, StringComparison.Ordinal);
        var b = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++)
        {
            int at = s.IndexOf(old, from, StringComparison.Ordinal);
            if (at < 0 || old.Length == 0) break;
            b.Append(s, from, at - from).Append(replacement);
            from = at + old.Length;
        }
        return b.Append(s, from, s.Length - from).ToString();
    }

    private static int CountOf(string s, string sub)
    {
        if (sub.Length == 0) return Length(s) + 1;
        int n = 0;
        for (int at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}
