using System.Globalization;
using System.Text;

namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>
/// transformers' tojson filter: Python's json.dumps(value, ensure_ascii=False, indent=indent,
/// separators=separators, sort_keys=sort_keys). Without indent items are joined by ", "; with it by ",".
/// </summary>
internal static class PythonJson
{
    public static string Dumps(object? value, int? indent, string? itemSeparator, string? keySeparator, bool sortKeys)
    {
        var b = new StringBuilder();
        Write(b, value, indent, itemSeparator ?? (indent != null ? "," : ", "), keySeparator ?? ": ", sortKeys, 0);
        return b.ToString();
    }

    private static void Write(StringBuilder b, object? value, int? indent, string item, string key, bool sortKeys, int depth)
    {
        switch (value)
        {
            case null: b.Append("null"); break;
            case bool v: b.Append(v ? "true" : "false"); break;
            case long v: b.Append(v.ToString(CultureInfo.InvariantCulture)); break;
            case double v:
                b.Append(double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "Infinity" : double.IsNegativeInfinity(v) ? "-Infinity" : TemplateValues.FloatRepr(v));
                break;
            case string v: Quote(b, v); break;
            case List<object?> or object?[]:
            {
                var items = TemplateValues.Iterate(value)!.ToList();
                Container(b, '[', ']', items.Count, indent, item, depth, i => Write(b, items[i], indent, item, key, sortKeys, depth + 1));
                break;
            }
            case OrderedDictionary<string, object?> or NamespaceValue:
            {
                var dict = value as OrderedDictionary<string, object?> ?? ((NamespaceValue)value).Attributes;
                var pairs = dict.ToList();
                if (sortKeys) pairs.Sort((x, y) => string.CompareOrdinal(x.Key, y.Key));
                Container(b, '{', '}', pairs.Count, indent, item, depth, i =>
                {
                    Quote(b, pairs[i].Key);
                    b.Append(key);
                    Write(b, pairs[i].Value, indent, item, key, sortKeys, depth + 1);
                });
                break;
            }
            default:
                throw new TemplateRuntimeError($"Object of type {TemplateValues.TypeName(value)} is not JSON serializable");
        }
    }

    private static void Container(StringBuilder b, char open, char close, int count, int? indent, string item, int depth, Action<int> writeItem)
    {
        b.Append(open);
        if (count == 0) { b.Append(close); return; }
        string? pad = indent is int n ? "\n" + new string(' ', n * (depth + 1)) : null;
        for (int i = 0; i < count; i++)
        {
            if (i > 0) b.Append(item);
            if (pad != null) b.Append(pad);
            writeItem(i);
        }
        if (indent is int m) b.Append('\n').Append(' ', m * depth);
        b.Append(close);
    }

    private static void Quote(StringBuilder b, string s)
    {
        b.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': b.Append("\\\""); break;
                case '\\': b.Append("\\\\"); break;
                case '\n': b.Append("\\n"); break;
                case '\r': b.Append("\\r"); break;
                case '\t': b.Append("\\t"); break;
                case '\b': b.Append("\\b"); break;
                case '\f': b.Append("\\f"); break;
                default:
                    if (c < 0x20) b.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else b.Append(c);
                    break;
            }
        }
        b.Append('"');
    }
}
