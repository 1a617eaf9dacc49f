namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>
/// A variable scope. A loop iteration and a macro call get their own (so a set inside them stays inside,
/// as in Jinja2, which is why templates use namespace()); if-blocks share their parent's.
/// </summary>
internal sealed class TemplateScope(TemplateScope? parent)
{
    private readonly TemplateScope? parent = parent;
    private readonly Dictionary<string, object?> variables = new(StringComparer.Ordinal);

    public bool TryLookup(string name, out object? value)
    {
        for (var s = this; s != null; s = s.parent)
            if (s.variables.TryGetValue(name, out value)) return true;
        value = null;
        return false;
    }

    public void Set(string name, object? value) => variables[name] = value;
}

/// <summary>Jinja2's loop object inside a for block.</summary>
internal sealed class LoopValue(IReadOnlyList<object?> items, int index)
{
    public object? Attribute(string name) => name switch
    {
        "index" => (long)index + 1,
        "index0" => (long)index,
        "revindex" => (long)(items.Count - index),
        "revindex0" => (long)(items.Count - index - 1),
        "first" => index == 0,
        "last" => index == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => index > 0 ? items[index - 1] : new Undefined("there is no previous item"),
        "nextitem" => index + 1 < items.Count ? items[index + 1] : new Undefined("there is no next item"),
        "cycle" => new CallableValue("loop.cycle", (args, _) =>
            args.Count == 0 ? throw new TemplateRuntimeError("no items for cycling given") : args[index % args.Count]),
        _ => new Undefined($"loop object has no attribute '{name}'"),
    };
}
