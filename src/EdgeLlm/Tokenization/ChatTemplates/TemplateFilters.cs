using System.Globalization;
using System.Net;

namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>Jinja2's built-in filters that chat templates use, plus transformers' own tojson.</summary>
internal static class TemplateFilters
{
    private static object? Kw(List<(string Name, object? Value)> kwargs, string name, List<object?> args, int position, object? fallback)
    {
        int at = kwargs.FindIndex(k => k.Name == name);
        if (at >= 0) return kwargs[at].Value;
        return position < args.Count ? args[position] : fallback;
    }

    private static IEnumerable<object?> Items(object? v, string filter) =>
        TemplateValues.Iterate(v) ?? throw new TemplateRuntimeError($"filter '{filter}' needs an iterable, got '{TemplateValues.TypeName(v)}'");

    public static object? Apply(TemplateEvaluator evaluator, string name, object? v, List<object?> args, List<(string Name, object? Value)> kwargs)
    {
        _ = evaluator;
        switch (name)
        {
            case "trim":
                return PythonStrings.Strip(TemplateValues.Str(v), Kw(kwargs, "chars", args, 0, null) as string, true, true);
            case "length" or "count":
                return v switch
                {
                    string s => (long)PythonStrings.Length(s),
                    Undefined => 0L,
                    List<object?> l => (long)l.Count,
                    object?[] t => (long)t.Length,
                    OrderedDictionary<string, object?> d => (long)d.Count,
                    _ => throw new TemplateRuntimeError($"object of type '{TemplateValues.TypeName(v)}' has no len()"),
                };
            case "tojson":
            {
                var indent = Kw(kwargs, "indent", args, 0, null);
                var separators = Kw(kwargs, "separators", args, 2, null);
                string? item = null, key = null;
                if (separators != null)
                {
                    var pair = Items(separators, name).ToList();
                    if (pair.Count != 2) throw new TemplateRuntimeError("tojson separators must be (item_separator, key_separator)");
                    item = (string)pair[0]!;
                    key = (string)pair[1]!;
                }
                if (TemplateValues.Truthy(Kw(kwargs, "ensure_ascii", args, 1, false)))
                    throw new TemplateRuntimeError("tojson(ensure_ascii=True) is not supported");
                return PythonJson.Dumps(v, indent is null ? null : (int)TemplateValues.ToLong(indent), item, key,
                    TemplateValues.Truthy(Kw(kwargs, "sort_keys", args, 3, false)));
            }
            case "items":
                return v switch
                {
                    Undefined => new List<object?>(),
                    OrderedDictionary<string, object?> d => d.Select(p => (object?)new object?[] { p.Key, p.Value }).ToList(),
                    _ => throw new TemplateRuntimeError("Can only get item pairs from a mapping."),
                };
            case "list": return Items(v, name).ToList();
            case "string": return TemplateValues.Str(v);
            case "lower": return TemplateValues.Str(v).ToLowerInvariant();
            case "upper": return TemplateValues.Str(v).ToUpperInvariant();
            case "title": return PythonStrings.Title(TemplateValues.Str(v));
            case "capitalize": return PythonStrings.Capitalize(TemplateValues.Str(v));
            case "safe": return v;
            case "e" or "escape": return v is string es ? WebUtility.HtmlEncode(es) : WebUtility.HtmlEncode(TemplateValues.Str(v));
            case "default" or "d":
            {
                var fallback = Kw(kwargs, "default_value", args, 0, "");
                bool boolean = TemplateValues.Truthy(Kw(kwargs, "boolean", args, 1, false));
                return v is Undefined || (boolean && !TemplateValues.Truthy(v)) ? fallback : v;
            }
            case "join":
            {
                var separator = TemplateValues.Str(Kw(kwargs, "d", args, 0, ""));
                var attribute = Kw(kwargs, "attribute", args, 1, null) as string;
                var items = Items(v, name).Select(x => attribute == null ? x : TemplateOperations.GetItem(x, attribute));
                return string.Join(separator, items.Select(TemplateValues.Str));
            }
            case "first": return Items(v, name).Cast<object?>().DefaultIfEmpty(new Undefined("the first item of an empty sequence")).First();
            case "last": return Items(v, name).Cast<object?>().DefaultIfEmpty(new Undefined("the last item of an empty sequence")).Last();
            case "reverse":
                return v is string rs ? string.Concat(PythonStrings.CodePoints(rs).Reverse()) : Items(v, name).Reverse().ToList();
            case "replace":
            {
                var s = TemplateValues.Str(v);
                var method = PythonStrings.Method(s, "replace")!;
                return method.Invoke(args, []);
            }
            case "int":
                return v switch
                {
                    long l => (object)l,
                    bool b => b ? 1L : 0L,
                    double d => (long)Math.Truncate(d),
                    string s when long.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var p) => p,
                    _ => Kw(kwargs, "default", args, 0, 0L),
                };
            case "float":
                return v switch
                {
                    long l => (object)(double)l,
                    double d => d,
                    bool b => b ? 1.0 : 0.0,
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var p) => p,
                    _ => Kw(kwargs, "default", args, 0, 0.0),
                };
            case "abs": return v switch { long l => (object)Math.Abs(l), double d => Math.Abs(d), _ => throw new TemplateRuntimeError("bad operand type for abs()") };
            case "select" or "reject":
            {
                if (args.Count == 0) return Items(v, name).Where(x => TemplateValues.Truthy(x) == (name == "select")).ToList();
                var test = (string)args[0]!;
                return Items(v, name).Where(x => TemplateTestFunctions.Apply(test, x, args.Skip(1).ToList()) == (name == "select")).ToList();
            }
            case "selectattr" or "rejectattr":
            {
                var attribute = (string)args[0]!;
                bool keep = name == "selectattr";
                return Items(v, name).Where(x =>
                {
                    var value = TemplateOperations.GetItem(x, attribute);
                    bool pass = args.Count < 2 ? TemplateValues.Truthy(value) : TemplateTestFunctions.Apply((string)args[1]!, value, args.Skip(2).ToList());
                    return pass == keep;
                }).ToList();
            }
            case "map":
            {
                if (Kw(kwargs, "attribute", [], 0, null) is string attribute)
                {
                    var fallback = Kw(kwargs, "default", [], 0, null);
                    return Items(v, name).Select(x =>
                    {
                        var value = TemplateOperations.GetItem(x, attribute);
                        return value is Undefined && fallback != null ? fallback : value;
                    }).ToList();
                }
                if (args.Count == 0) throw new TemplateRuntimeError("map needs a filter name or attribute=");
                var filter = (string)args[0]!;
                return Items(v, name).Select(x => Apply(evaluator, filter, x, args.Skip(1).ToList(), kwargs)).ToList();
            }
            case "unique":
            {
                var seen = new List<object?>();
                foreach (var x in Items(v, name)) if (!seen.Any(s => TemplateValues.Equals(s, x))) seen.Add(x);
                return seen;
            }
            case "sum": return Items(v, name).Aggregate(Kw(kwargs, "start", args, 1, 0L), (acc, x) => TemplateOperations.Binary("+", acc, x));
            case "indent":
            {
                var width = Kw(kwargs, "width", args, 0, 4L);
                string pad = width is string ws ? ws : new string(' ', (int)TemplateValues.ToLong(width));
                bool first = TemplateValues.Truthy(Kw(kwargs, "first", args, 1, false));
                bool blank = TemplateValues.Truthy(Kw(kwargs, "blank", args, 2, false));
                var lines = TemplateValues.Str(v).Split('\n');
                for (int i = 0; i < lines.Length; i++)
                    if ((i > 0 || first) && (blank || lines[i].Trim().Length > 0)) lines[i] = pad + lines[i];
                return string.Join('\n', lines);
            }
            case "wordcount": return (long)PythonStrings.Split(TemplateValues.Str(v), null, -1).Count;
            default:
                throw new TemplateRuntimeError($"unsupported filter '{name}'");
        }
    }
}
