namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>Attribute and item access, slicing and the binary operators, with Python's (and the sandbox's) rules.</summary>
internal static class TemplateOperations
{
    private static readonly HashSet<string> MutatingListMethods = ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"];
    private static readonly HashSet<string> MutatingDictMethods = ["update", "pop", "popitem", "clear", "setdefault"];

    private static TemplateRuntimeError UndefinedUse(Undefined u) => new($"{u.Description} is undefined");

    /// <summary>Jinja's getattr: a Python attribute (methods) first, then the item of that name; missing = Undefined.</summary>
    public static object? GetAttribute(object? target, string name)
    {
        switch (target)
        {
            case Undefined u: throw UndefinedUse(u);
            case OrderedDictionary<string, object?> d:
                if (DictMethod(d, name) is { } m) return m;
                return d.TryGetValue(name, out var v) ? v : new Undefined($"'dict object' has no attribute '{name}'");
            case string s:
                return (object?)PythonStrings.Method(s, name) ?? new Undefined($"'str object' has no attribute '{name}'");
            case List<object?> or object?[]:
                if (MutatingListMethods.Contains(name) && target is List<object?>) return Unsafe(name, "list");
                if (name is "index" or "count") return SequenceMethod(TemplateValues.Iterate(target)!.ToList(), name);
                return new Undefined($"'{TemplateValues.TypeName(target)} object' has no attribute '{name}'");
            case NamespaceValue n:
                return n.Attributes.TryGetValue(name, out var a) ? a : new Undefined($"'Namespace object' has no attribute '{name}'");
            case LoopValue loop:
                return loop.Attribute(name);
            default:
                return new Undefined($"'{TemplateValues.TypeName(target)} object' has no attribute '{name}'");
        }
    }

    private static CallableValue Unsafe(string name, string type) =>
        new($"{type}.{name}", (_, _) => throw new TemplateRuntimeError($"access to attribute '{name}' of '{type}' object is unsafe (the sandbox is immutable)"));

    private static CallableValue? DictMethod(OrderedDictionary<string, object?> d, string name)
    {
        if (MutatingDictMethods.Contains(name)) return Unsafe(name, "dict");
        return name switch
        {
            "items" => new CallableValue("dict.items", (_, _) => d.Select(p => (object?)new object?[] { p.Key, p.Value }).ToList()),
            "keys" => new CallableValue("dict.keys", (_, _) => d.Keys.Cast<object?>().ToList()),
            "values" => new CallableValue("dict.values", (_, _) => d.Values.ToList()),
            "get" => new CallableValue("dict.get", (args, _) =>
                args.Count > 0 && args[0] is string k && d.TryGetValue(k, out var v) ? v : args.Count > 1 ? args[1] : null),
            _ => null,
        };
    }

    private static CallableValue SequenceMethod(List<object?> items, string name) => new($"list.{name}", (args, _) => name == "count"
        ? (long)items.Count(i => TemplateValues.Equals(i, args[0]))
        : items.FindIndex(i => TemplateValues.Equals(i, args[0])) is var at and >= 0 ? (long)at : throw new TemplateRuntimeError("value is not in list"));

    /// <summary>Jinja's getitem: the item first, then (for a string key) the attribute; missing = Undefined.</summary>
    public static object? GetItem(object? target, object? key)
    {
        switch (target)
        {
            case Undefined u: throw UndefinedUse(u);
            case List<object?> or object?[] when key is long or bool:
            {
                var items = target as IList<object?> ?? (object?[])target;
                long i = TemplateValues.ToLong(key);
                if (i < 0) i += items.Count;
                return i >= 0 && i < items.Count ? items[(int)i] : new Undefined($"{TemplateValues.TypeName(target)} index {key} out of range");
            }
            case string s when key is long or bool:
            {
                var chars = PythonStrings.CodePoints(s).ToList();
                long i = TemplateValues.ToLong(key);
                if (i < 0) i += chars.Count;
                return i >= 0 && i < chars.Count ? chars[(int)i] : new Undefined($"string index {key} out of range");
            }
            case OrderedDictionary<string, object?> d when key is string k:
                if (d.TryGetValue(k, out var v)) return v;
                return GetAttribute(d, k);
            default:
                return key is string name ? GetAttribute(target, name) : new Undefined($"'{TemplateValues.TypeName(target)} object' has no item {TemplateValues.Repr(key)}");
        }
    }

    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        if (target is Undefined u) throw UndefinedUse(u);
        List<object?> items = target switch
        {
            string s => PythonStrings.CodePoints(s).Cast<object?>().ToList(),
            List<object?> l => l,
            object?[] t => t.ToList(),
            _ => throw new TemplateRuntimeError($"'{TemplateValues.TypeName(target)}' object is not subscriptable"),
        };
        var picked = SliceIndices(items.Count, start, stop, step).Select(i => items[i]);
        return target switch
        {
            string => string.Concat(picked.Cast<string>()),
            object?[] => picked.ToArray(),
            _ => picked.ToList(),
        };
    }

    private static long? Bound(object? v) => v switch
    {
        null or Undefined => null,
        long or bool => TemplateValues.ToLong(v),
        _ => throw new TemplateRuntimeError("slice indices must be integers or None"),
    };

    // Python's slice.indices + range.
    private static IEnumerable<int> SliceIndices(int length, object? start, object? stop, object? step)
    {
        long st = Bound(step) ?? 1;
        if (st == 0) throw new TemplateRuntimeError("slice step cannot be zero");
        long Clamp(long? v, long whenNull, long low, long high)
        {
            if (v is not long x) return whenNull;
            if (x < 0) x += length;
            return Math.Clamp(x, low, high);
        }
        if (st > 0)
        {
            long a = Clamp(Bound(start), 0, 0, length), b = Clamp(Bound(stop), length, 0, length);
            for (long i = a; i < b; i += st) yield return (int)i;
        }
        else
        {
            long a = Clamp(Bound(start), length - 1, -1, length - 1), b = Clamp(Bound(stop), -1, -1, length - 1);
            for (long i = a; i > b; i += st) yield return (int)i;
        }
    }

    public static bool Contains(object? container, object? item) => container switch
    {
        Undefined => false,
        string s => item is string sub ? s.Contains(sub, StringComparison.Ordinal) : throw new TemplateRuntimeError("'in <string>' requires string as left operand"),
        OrderedDictionary<string, object?> d => item is string k && d.ContainsKey(k),
        List<object?> or object?[] => TemplateValues.Iterate(container)!.Any(x => TemplateValues.Equals(x, item)),
        NamespaceValue n => item is string k && n.Attributes.ContainsKey(k),
        _ => throw new TemplateRuntimeError($"argument of type '{TemplateValues.TypeName(container)}' is not iterable"),
    };

    public static object? Binary(string op, object? a, object? b)
    {
        if (op == "~") return TemplateValues.Str(a) + TemplateValues.Str(b);
        if (op is "==") return TemplateValues.Equals(a, b);
        if (op is "!=") return !TemplateValues.Equals(a, b);
        if (op is "in") return Contains(b, a);
        if (op is "not in") return !Contains(b, a);
        if (a is Undefined ua) throw UndefinedUse(ua);
        if (b is Undefined ub) throw UndefinedUse(ub);
        if (op is "<" or ">" or "<=" or ">=") return Compare(op, a, b);
        bool numbers = TemplateValues.IsNumber(a) && TemplateValues.IsNumber(b);
        bool floats = a is double || b is double;
        switch (op)
        {
            case "+":
                if (numbers) return floats ? TemplateValues.ToDouble(a) + TemplateValues.ToDouble(b) : (object)(TemplateValues.ToLong(a) + TemplateValues.ToLong(b));
                if (a is string sa && b is string sb) return sa + sb;
                if (a is List<object?> la && b is List<object?> lb) return la.Concat(lb).ToList();
                if (a is object?[] ta && b is object?[] tb) return ta.Concat(tb).ToArray();
                break;
            case "-" when numbers:
                return floats ? TemplateValues.ToDouble(a) - TemplateValues.ToDouble(b) : (object)(TemplateValues.ToLong(a) - TemplateValues.ToLong(b));
            case "*":
                if (numbers) return floats ? TemplateValues.ToDouble(a) * TemplateValues.ToDouble(b) : (object)(TemplateValues.ToLong(a) * TemplateValues.ToLong(b));
                if (a is string rs && b is long or bool) return string.Concat(Enumerable.Repeat(rs, (int)Math.Max(0, TemplateValues.ToLong(b))));
                if (a is List<object?> rl && b is long or bool) return Enumerable.Repeat(rl, (int)Math.Max(0, TemplateValues.ToLong(b))).SelectMany(x => x).ToList();
                break;
            case "/" when numbers:
                if (TemplateValues.ToDouble(b) == 0) throw new TemplateRuntimeError("division by zero");
                return TemplateValues.ToDouble(a) / TemplateValues.ToDouble(b);
            case "//" when numbers:
                if (TemplateValues.ToDouble(b) == 0) throw new TemplateRuntimeError("integer division or modulo by zero");
                if (floats) return Math.Floor(TemplateValues.ToDouble(a) / TemplateValues.ToDouble(b));
                return FloorDiv(TemplateValues.ToLong(a), TemplateValues.ToLong(b));
            case "%" when numbers:
                if (TemplateValues.ToDouble(b) == 0) throw new TemplateRuntimeError("integer division or modulo by zero");
                if (floats)
                {
                    double x = TemplateValues.ToDouble(a), y = TemplateValues.ToDouble(b), r = x % y;
                    return r != 0 && (r < 0) != (y < 0) ? r + y : r;
                }
                long m = TemplateValues.ToLong(a), n = TemplateValues.ToLong(b);
                return m - n * FloorDiv(m, n);
            case "**" when numbers:
                if (!floats && TemplateValues.ToLong(b) >= 0) return (long)Math.Pow(TemplateValues.ToLong(a), TemplateValues.ToLong(b));
                return Math.Pow(TemplateValues.ToDouble(a), TemplateValues.ToDouble(b));
        }
        throw new TemplateRuntimeError($"unsupported operand type(s) for {op}: '{TemplateValues.TypeName(a)}' and '{TemplateValues.TypeName(b)}'");
    }

    private static long FloorDiv(long a, long b) => a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);

    private static bool Compare(string op, object? a, object? b)
    {
        int c;
        if (TemplateValues.IsNumber(a) && TemplateValues.IsNumber(b)) c = TemplateValues.ToDouble(a).CompareTo(TemplateValues.ToDouble(b));
        else if (a is string x && b is string y) c = string.CompareOrdinal(x, y);
        else throw new TemplateRuntimeError($"'{op}' not supported between instances of '{TemplateValues.TypeName(a)}' and '{TemplateValues.TypeName(b)}'");
        return op switch { "<" => c < 0, ">" => c > 0, "<=" => c <= 0, _ => c >= 0 };
    }
}
