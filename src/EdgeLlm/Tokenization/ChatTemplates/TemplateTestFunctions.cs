namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>Jinja2's tests (<c>x is defined</c>, <c>x is string</c>, <c>x is equalto y</c>…) with Python's type rules.</summary>
internal static class TemplateTestFunctions
{
    public static bool Apply(string name, object? v, List<object?> args)
    {
        object? Arg() => args.Count > 0 ? args[0] : throw new TemplateRuntimeError($"test '{name}' needs an argument");
        return name switch
        {
            "defined" => v is not Undefined,
            "undefined" => v is Undefined,
            "none" => v is null,
            "string" => v is string,
            "number" => v is bool or long or double,
            "integer" => v is long,
            "float" => v is double,
            "boolean" => v is bool,
            "true" => v is true,
            "false" => v is false,
            "mapping" => v is OrderedDictionary<string, object?>,
            "iterable" => v is Undefined or string or List<object?> or object?[] or OrderedDictionary<string, object?>,
            "sequence" => v is Undefined or string or List<object?> or object?[] or OrderedDictionary<string, object?>,
            "callable" => v is CallableValue,
            "equalto" or "eq" or "==" => TemplateValues.Equals(v, Arg()),
            "ne" or "!=" => !TemplateValues.Equals(v, Arg()),
            "lt" or "lessthan" or "<" => (bool)TemplateOperations.Binary("<", v, Arg())!,
            "le" or "<=" => (bool)TemplateOperations.Binary("<=", v, Arg())!,
            "gt" or "greaterthan" or ">" => (bool)TemplateOperations.Binary(">", v, Arg())!,
            "ge" or ">=" => (bool)TemplateOperations.Binary(">=", v, Arg())!,
            "in" => TemplateOperations.Contains(Arg(), v),
            "sameas" => ReferenceEquals(v, Arg()) || (v is null && Arg() is null) || (v is bool a && Arg() is bool b && a == b),
            "odd" => TemplateValues.ToLong(v) % 2 != 0,
            "even" => TemplateValues.ToLong(v) % 2 == 0,
            "divisibleby" => TemplateValues.ToLong(v) % TemplateValues.ToLong(Arg()) == 0,
            "lower" => v is string s && s.ToLowerInvariant() == s,
            "upper" => v is string s2 && s2.ToUpperInvariant() == s2,
            "escaped" => false,
            _ => throw new TemplateRuntimeError($"unsupported test '{name}'"),
        };
    }
}
