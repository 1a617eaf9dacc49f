using System.Text;

namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>Executes a parsed template against a scope, appending its output; errors carry the node's line:column.</summary>
internal sealed class TemplateEvaluator(string templateName)
{
    private enum Flow { Normal, Break, Continue }

    private const int MaxCallDepth = 200;
    private int callDepth;

    public string Render(List<Node> nodes, TemplateScope scope)
    {
        var output = new StringBuilder();
        if (Execute(nodes, scope, output) != Flow.Normal) throw new ChatTemplateException(templateName, 0, 0, "break or continue outside a loop");
        return output.ToString();
    }

    private ChatTemplateException Located(Node node, string problem, Exception? inner = null) =>
        new(templateName, node.At.Line, node.At.Column, problem, inner);

    private Flow Execute(List<Node> nodes, TemplateScope scope, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            var flow = ExecuteOne(node, scope, output);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow ExecuteOne(Node node, TemplateScope scope, StringBuilder output)
    {
        try
        {
            switch (node)
            {
                case TextNode t: output.Append(t.Text); return Flow.Normal;
                case OutputNode o: output.Append(TemplateValues.Str(Eval(o.Value, scope))); return Flow.Normal;
                case IfNode i: return Execute(TemplateValues.Truthy(Eval(i.Condition, scope)) ? i.Then : i.Else, scope, output);
                case ForNode f: return ExecuteFor(f, scope, output);
                case SetNode s: Assign(s.Target, Eval(s.Value, scope), scope); return Flow.Normal;
                case SetBlockNode sb:
                {
                    var captured = new StringBuilder();
                    Execute(sb.Body, scope, captured);
                    scope.Set(sb.Name, captured.ToString());
                    return Flow.Normal;
                }
                case MacroNode m: scope.Set(m.Name, MakeMacro(m, scope)); return Flow.Normal;
                case BreakNode: return Flow.Break;
                case ContinueNode: return Flow.Continue;
                default: throw Located(node, $"cannot execute {node.GetType().Name}");
            }
        }
        catch (TemplateRuntimeError e) { throw Located(node, e.Message, e); }
    }

    private Flow ExecuteFor(ForNode f, TemplateScope scope, StringBuilder output)
    {
        var iterable = Eval(f.Iterable, scope);
        var source = TemplateValues.Iterate(iterable)
            ?? throw Located(f.Iterable, $"'{TemplateValues.TypeName(iterable)}' object is not iterable");
        var items = source.ToList();
        if (f.Filter != null)
            items = items.Where(item =>
            {
                var probe = new TemplateScope(scope);
                Assign(f.Target, item, probe);
                return TemplateValues.Truthy(Eval(f.Filter, probe));
            }).ToList();
        if (items.Count == 0) return Execute(f.Else, new TemplateScope(scope), output);
        for (int i = 0; i < items.Count; i++)
        {
            var iteration = new TemplateScope(scope);
            Assign(f.Target, items[i], iteration);
            iteration.Set("loop", new LoopValue(items, i));
            if (Execute(f.Body, iteration, output) == Flow.Break) break;
        }
        return Flow.Normal;
    }

    private void Assign(Expr target, object? value, TemplateScope scope)
    {
        switch (target)
        {
            case NameExpr n: scope.Set(n.Name, value); break;
            case AttributeExpr { Target: NameExpr owner } a:
                if (!scope.TryLookup(owner.Name, out var ns) || ns is not NamespaceValue space)
                    throw Located(a, $"cannot assign attribute on non-namespace object '{owner.Name}'");
                space.Attributes[a.Name] = value;
                break;
            case TupleExpr t:
            {
                var items = TemplateValues.Iterate(value)?.ToList() ?? throw Located(t, $"cannot unpack non-iterable {TemplateValues.TypeName(value)} object");
                if (items.Count != t.Items.Count) throw Located(t, $"expected {t.Items.Count} values to unpack, got {items.Count}");
                for (int i = 0; i < items.Count; i++) Assign(t.Items[i], items[i], scope);
                break;
            }
            default: throw Located(target, "cannot assign to this expression");
        }
    }

    private CallableValue MakeMacro(MacroNode m, TemplateScope definition) => new(m.Name, (args, kwargs) =>
    {
        if (args.Count > m.Parameters.Count) throw new TemplateRuntimeError($"macro '{m.Name}' takes not more than {m.Parameters.Count} argument(s)");
        var local = new TemplateScope(definition);
        for (int i = 0; i < m.Parameters.Count; i++)
        {
            var name = m.Parameters[i];
            int kw = kwargs.FindIndex(k => k.Name == name);
            object? value = i < args.Count ? args[i]
                : kw >= 0 ? kwargs[kw].Value
                : m.Defaults[i] is Expr d ? Eval(d, local)
                : new Undefined($"parameter '{name}' of macro '{m.Name}'");
            local.Set(name, value);
        }
        foreach (var (name, _) in kwargs)
            if (!m.Parameters.Contains(name)) throw new TemplateRuntimeError($"macro '{m.Name}' takes no keyword argument '{name}'");
        if (++callDepth > MaxCallDepth) throw new TemplateRuntimeError($"macro '{m.Name}' recursed deeper than {MaxCallDepth} calls");
        try { return Render(m.Body, local); }
        finally { callDepth--; }
    });

    public object? Eval(Expr e, TemplateScope scope)
    {
        try
        {
            return EvalCore(e, scope);
        }
        catch (TemplateRuntimeError ex) { throw Located(e, ex.Message, ex); }
        catch (TemplateRaise r) { throw new ChatTemplateRaisedException(templateName, e.At.Line, e.At.Column, r.Message); }
        catch (Exception ex) when (ex is InvalidCastException or NullReferenceException or ArgumentException or IndexOutOfRangeException)
        {
            throw Located(e, "wrong argument types: " + ex.Message, ex);
        }
    }

    private object? EvalCore(Expr e, TemplateScope scope)
    {
        switch (e)
        {
            case LiteralExpr l: return l.Value;
            case NameExpr n: return scope.TryLookup(n.Name, out var v) ? v : new Undefined($"'{n.Name}'");
            case ListExpr l: return l.Items.Select(i => Eval(i, scope)).ToList();
            case TupleExpr t: return t.Items.Select(i => Eval(i, scope)).ToArray();
            case DictExpr d:
                return TemplateValues.ToDict(d.Items.Select(p => (Eval(p.Key, scope) as string
                    ?? throw Located(p.Key, "only string keys are supported in dict literals"), Eval(p.Value, scope))));
            case AttributeExpr a: return TemplateOperations.GetAttribute(Eval(a.Target, scope), a.Name);
            case IndexExpr i: return TemplateOperations.GetItem(Eval(i.Target, scope), Eval(i.Index, scope));
            case SliceExpr s:
                return TemplateOperations.Slice(Eval(s.Target, scope), s.Start == null ? null : Eval(s.Start, scope),
                    s.Stop == null ? null : Eval(s.Stop, scope), s.Step == null ? null : Eval(s.Step, scope));
            case CallExpr c:
            {
                var callee = Eval(c.Callee, scope);
                var args = c.Args.Select(a => Eval(a, scope)).ToList();
                var kwargs = c.Kwargs.Select(k => (k.Name, Eval(k.Value, scope))).ToList();
                return callee switch
                {
                    CallableValue f => f.Invoke(args, kwargs),
                    Undefined u => throw new TemplateRuntimeError($"{u.Description} is undefined (called as a function)"),
                    _ => throw new TemplateRuntimeError($"'{TemplateValues.TypeName(callee)}' object is not callable"),
                };
            }
            case FilterExpr f:
                return TemplateFilters.Apply(this, f.Name, Eval(f.Value, scope), f.Args.Select(a => Eval(a, scope)).ToList(),
                    f.Kwargs.Select(k => (k.Name, Eval(k.Value, scope))).ToList());
            case TestExpr t:
            {
                bool result = TemplateTestFunctions.Apply(t.Name, Eval(t.Value, scope), t.Args.Select(a => Eval(a, scope)).ToList());
                return t.Negated ? !result : result;
            }
            case UnaryExpr u:
            {
                var operand = Eval(u.Operand, scope);
                return u.Operator switch
                {
                    "not" => !TemplateValues.Truthy(operand),
                    "-" => operand switch { long x => (object)(-x), double x => -x, bool b => b ? -1L : 0L, _ => throw new TemplateRuntimeError($"bad operand type for unary -: '{TemplateValues.TypeName(operand)}'") },
                    _ => TemplateValues.IsNumber(operand) ? operand is bool b2 ? (b2 ? 1L : 0L) : operand : throw new TemplateRuntimeError($"bad operand type for unary +: '{TemplateValues.TypeName(operand)}'"),
                };
            }
            case BinaryExpr b:
                if (b.Operator == "and") { var left = Eval(b.Left, scope); return TemplateValues.Truthy(left) ? Eval(b.Right, scope) : left; }
                if (b.Operator == "or") { var left = Eval(b.Left, scope); return TemplateValues.Truthy(left) ? left : Eval(b.Right, scope); }
                return TemplateOperations.Binary(b.Operator, Eval(b.Left, scope), Eval(b.Right, scope));
            case ConditionalExpr c:
                return TemplateValues.Truthy(Eval(c.Condition, scope)) ? Eval(c.Then, scope)
                    : c.Else != null ? Eval(c.Else, scope) : new Undefined("the else branch of a conditional expression");
            default:
                throw Located(e, $"cannot evaluate {e.GetType().Name}");
        }
    }
}
