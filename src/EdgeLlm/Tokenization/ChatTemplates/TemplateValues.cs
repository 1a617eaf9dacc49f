using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>
/// Jinja2's default Undefined: prints as "", is false, iterates as empty, has length 0; using an attribute,
/// an item or an operator on it is an error naming what was undefined.
/// </summary>
internal sealed class Undefined(string description)
{
    public string Description { get; } = description;
    public override string ToString() => "";
}

/// <summary>The object <c>namespace(...)</c> makes: the one thing a template may assign attributes on.</summary>
internal sealed class NamespaceValue
{
    public OrderedDictionary<string, object?> Attributes { get; } = new();
}

/// <summary>A callable value: a macro, a global function, or a bound method of a string, dict or list.</summary>
internal sealed class CallableValue(string name, Func<List<object?>, List<(string Name, object? Value)>, object?> invoke)
{
    public string Name { get; } = name;
    public object? Invoke(List<object?> args, List<(string Name, object? Value)> kwargs) => invoke(args, kwargs);
}

/// <summary>Python-like behaviour of template values: truth, equality, str() and repr().</summary>
/// <remarks>Values are null (None), <see cref="Undefined"/>, bool, long, double, string, List (list),
/// object?[] (tuple), OrderedDictionary (dict), <see cref="NamespaceValue"/>, <see cref="CallableValue"/>, loop objects.</remarks>
internal static class TemplateValues
{
    public static object? FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.Object => ToDict(e.EnumerateObject().Select(p => (p.Name, FromJson(p.Value)))),
        _ => throw new ArgumentException($"unsupported JSON value kind {e.ValueKind}"),
    };

    public static OrderedDictionary<string, object?> ToDict(IEnumerable<(string Key, object? Value)> pairs)
    {
        var d = new OrderedDictionary<string, object?>();
        foreach (var (k, v) in pairs) d[k] = v; // a repeated key keeps its first position and last value, as Python
        return d;
    }

    public static bool Truthy(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        object?[] t => t.Length > 0,
        OrderedDictionary<string, object?> d => d.Count > 0,
        _ => true,
    };

    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        Undefined => "Undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        object?[] => "tuple",
        OrderedDictionary<string, object?> => "dict",
        NamespaceValue => "Namespace",
        CallableValue => "function",
        _ => v.GetType().Name,
    };

    public static bool IsNumber(object? v) => v is bool or long or double;

    public static double ToDouble(object? v) => v switch { bool b => b ? 1 : 0, long l => l, double d => d, _ => throw new InvalidCastException() };

    public static new bool Equals(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
            return a is double || b is double ? ToDouble(a) == ToDouble(b) : ToLong(a) == ToLong(b);
        return (a, b) switch
        {
            (null, null) => true,
            (Undefined, Undefined) => true,
            (string x, string y) => x == y,
            (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => Equals(p.First, p.Second)),
            (object?[] x, object?[] y) => x.Length == y.Length && x.Zip(y).All(p => Equals(p.First, p.Second)),
            (OrderedDictionary<string, object?> x, OrderedDictionary<string, object?> y) =>
                x.Count == y.Count && x.All(p => y.TryGetValue(p.Key, out var w) && Equals(p.Value, w)),
            _ => ReferenceEquals(a, b),
        };
    }

    public static long ToLong(object? v) => v switch { bool b => b ? 1 : 0, long l => l, _ => throw new InvalidCastException() };

    /// <summary>Python's str(): what <c>{{ value }}</c> prints.</summary>
    public static string Str(object? v) => v switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(v),
    };

    /// <summary>Python's repr() for the value types a template holds.</summary>
    public static string Repr(object? v) => v switch
    {
        null => "None",
        Undefined => "",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatRepr(d),
        string s => StringRepr(s),
        List<object?> l => "[" + string.Join(", ", l.Select(Repr)) + "]",
        object?[] t => t.Length == 1 ? "(" + Repr(t[0]) + ",)" : "(" + string.Join(", ", t.Select(Repr)) + ")",
        OrderedDictionary<string, object?> d => "{" + string.Join(", ", d.Select(p => StringRepr(p.Key) + ": " + Repr(p.Value))) + "}",
        NamespaceValue n => "<Namespace " + Repr(ToDict(n.Attributes.Select(p => (p.Key, p.Value)))) + ">",
        CallableValue c => $"<function {c.Name}>",
        _ => v.ToString() ?? "",
    };

    /// <summary>Python's float repr: the shortest round-trip digits, exponent form below 1e-4 and from 1e16.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        // Shortest round-trip digits and decimal exponent, then Python's layout of them.
        var shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        string digits;
        int exponent;
        int ePos = shortest.IndexOf('E');
        var mantissa = ePos >= 0 ? shortest[..ePos] : shortest;
        int exp10 = ePos >= 0 ? int.Parse(shortest[(ePos + 1)..], CultureInfo.InvariantCulture) : 0;
        int dot = mantissa.IndexOf('.');
        var intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        var fracPart = dot >= 0 ? mantissa[(dot + 1)..] : "";
        var all = (intPart + fracPart).TrimStart('0');
        int leadingZeros = (intPart + fracPart).Length - all.Length;
        exponent = intPart.Length - 1 - leadingZeros + exp10;
        digits = all.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        string sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16)
        {
            var m = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
            return sign + m + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
        }
        if (exponent < 0) return sign + "0." + new string('0', -exponent - 1) + digits;
        if (digits.Length <= exponent + 1) return sign + digits + new string('0', exponent + 1 - digits.Length) + ".0";
        return sign + digits[..(exponent + 1)] + "." + digits[(exponent + 1)..];
    }

    public static string StringRepr(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var b = new StringBuilder().Append(quote);
        foreach (char c in s)
        {
            if (c == quote || c == '\\') b.Append('\\').Append(c);
            else if (c == '\n') b.Append("\\n");
            else if (c == '\r') b.Append("\\r");
            else if (c == '\t') b.Append("\\t");
            else if (c < 0x20 || c == 0x7f) b.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else b.Append(c);
        }
        return b.Append(quote).ToString();
    }

    /// <summary>Python iteration: a list's or tuple's items, a dict's keys, a string's characters; Undefined is empty.</summary>
    public static IEnumerable<object?>? Iterate(object? v) => v switch
    {
        Undefined => [],
        List<object?> l => l,
        object?[] t => t,
        OrderedDictionary<string, object?> d => d.Keys.Cast<object?>(),
        string s => PythonStrings.CodePoints(s).Cast<object?>(),
        _ => null,
    };
}
