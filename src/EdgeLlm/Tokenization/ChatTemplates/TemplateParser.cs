using System.Globalization;

namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>
/// Builds the statement tree of a template from its tokens with Jinja2's grammar and precedence
/// (or, and, not, comparisons, + -, ~, * / // %, **, unary, then postfix, filters and tests). Statements:
/// if/elif/else, for (with an inline filter and else), set (also block set and namespace attributes), macro,
/// break/continue, and transformers' generation block. Anything else is an error naming line:column.
/// </summary>
internal sealed class TemplateParser(List<TemplateToken> tokens, string name)
{
    private int index;

    public static List<Node> Parse(string source, string name)
    {
        var parser = new TemplateParser(TemplateLexer.Tokenize(source, name), name);
        var body = parser.ParseBody([], out var end);
        if (end != null) throw parser.Error(parser.Current, $"unexpected '{end}'");
        return body;
    }

    private TemplateToken Current => tokens[index];
    private TemplateToken Peek(int ahead = 1) => tokens[Math.Min(index + ahead, tokens.Count - 1)];
    private TemplateToken Next() => tokens[index++];
    private static SourcePosition At(TemplateToken t) => new(t.Line, t.Column);

    private ChatTemplateException Error(TemplateToken at, string problem) => new(name, at.Line, at.Column, problem);

    private TemplateToken Expect(TokenKind kind, string? value = null)
    {
        var t = Current;
        if (t.Kind != kind || (value != null && t.Value != value))
            throw Error(t, $"expected {Describe(kind, value)}, found {Describe(t)}");
        index++;
        return t;
    }

    private static string Describe(TokenKind kind, string? value) => kind switch
    {
        TokenKind.BlockEnd => "'%}'",
        TokenKind.VariableEnd => "'}}'",
        TokenKind.Name => value != null ? $"'{value}'" : "a name",
        _ => value != null ? $"'{value}'" : kind.ToString(),
    };

    private static string Describe(TemplateToken t) => t.Kind switch
    {
        TokenKind.End => "the end of the template",
        TokenKind.BlockEnd => "'%}'",
        TokenKind.VariableEnd => "'}}'",
        TokenKind.String => "a string",
        _ => $"'{t.Value}'",
    };

    private bool AcceptOperator(string op)
    {
        if (!Current.IsOperator(op)) return false;
        index++;
        return true;
    }

    private bool AcceptName(string value)
    {
        if (!Current.IsName(value)) return false;
        index++;
        return true;
    }

    // Parses nodes until a block tag whose keyword is in endTags (left unconsumed after its '{%'), or the end.
    private List<Node> ParseBody(string[] endTags, out string? end)
    {
        var body = new List<Node>();
        while (true)
        {
            var t = Current;
            switch (t.Kind)
            {
                case TokenKind.End:
                    if (endTags.Length > 0) throw Error(t, $"unexpected end of template; expected {string.Join(" or ", endTags.Select(e => "'" + e + "'"))}");
                    end = null;
                    return body;
                case TokenKind.Text:
                    body.Add(new TextNode(At(t), t.Value));
                    index++;
                    break;
                case TokenKind.VariableBegin:
                    index++;
                    body.Add(new OutputNode(At(t), ParseTuple(allowConditional: true)));
                    Expect(TokenKind.VariableEnd);
                    break;
                case TokenKind.BlockBegin:
                    var keyword = Peek();
                    if (keyword.Kind == TokenKind.Name && endTags.Contains(keyword.Value))
                    {
                        index += 2;
                        end = keyword.Value;
                        return body;
                    }
                    index++;
                    body.Add(ParseStatement(t));
                    break;
                default:
                    throw Error(t, $"unexpected {Describe(t)}");
            }
        }
    }

    private Node ParseStatement(TemplateToken begin)
    {
        var keyword = Expect(TokenKind.Name);
        switch (keyword.Value)
        {
            case "if": return ParseIf(keyword);
            case "for": return ParseFor(keyword);
            case "set": return ParseSet(keyword);
            case "macro": return ParseMacro(keyword);
            case "break": Expect(TokenKind.BlockEnd); return new BreakNode(At(keyword));
            case "continue": Expect(TokenKind.BlockEnd); return new ContinueNode(At(keyword));
            case "generation":
            {
                // transformers' AssistantTracker: marks assistant text for masks; rendering passes the body through.
                Expect(TokenKind.BlockEnd);
                var body = ParseBody(["endgeneration"], out _);
                Expect(TokenKind.BlockEnd);
                return new IfNode(At(keyword), new LiteralExpr(At(keyword), true), body, []);
            }
            default:
                throw Error(keyword, $"unsupported statement '{keyword.Value}' (chat templates here may use if, for, set, macro, break, continue)");
        }
    }

    private IfNode ParseIf(TemplateToken keyword)
    {
        var condition = ParseTuple(allowConditional: true);
        Expect(TokenKind.BlockEnd);
        var then = ParseBody(["elif", "else", "endif"], out var end);
        List<Node> otherwise = [];
        if (end == "elif") otherwise = [ParseIf(tokens[index - 1])];
        else if (end == "else")
        {
            Expect(TokenKind.BlockEnd);
            otherwise = ParseBody(["endif"], out _);
            Expect(TokenKind.BlockEnd);
        }
        else Expect(TokenKind.BlockEnd);
        return new IfNode(At(keyword), condition, then, otherwise);
    }

    private ForNode ParseFor(TemplateToken keyword)
    {
        var target = ParseAssignTarget(allowAttribute: false);
        Expect(TokenKind.Name, "in");
        var iterable = ParseTuple(allowConditional: false);
        Expr? filter = null;
        if (AcceptName("if")) filter = ParseExpression(allowConditional: true);
        if (Current.IsName("recursive")) throw Error(Current, "unsupported: recursive loops");
        Expect(TokenKind.BlockEnd);
        var body = ParseBody(["else", "endfor"], out var end);
        List<Node> otherwise = [];
        Expect(TokenKind.BlockEnd);
        if (end == "else")
        {
            otherwise = ParseBody(["endfor"], out _);
            Expect(TokenKind.BlockEnd);
        }
        return new ForNode(At(keyword), target, iterable, filter, body, otherwise);
    }

    private Node ParseSet(TemplateToken keyword)
    {
        var target = ParseAssignTarget(allowAttribute: true);
        if (Current.Kind == TokenKind.BlockEnd)
        {
            if (target is not NameExpr n) throw Error(Current, "a block set needs a plain variable name");
            Expect(TokenKind.BlockEnd);
            var body = ParseBody(["endset"], out _);
            Expect(TokenKind.BlockEnd);
            return new SetBlockNode(At(keyword), n.Name, body);
        }
        Expect(TokenKind.Operator, "=");
        var value = ParseTuple(allowConditional: true);
        Expect(TokenKind.BlockEnd);
        return new SetNode(At(keyword), target, value);
    }

    private Expr ParseAssignTarget(bool allowAttribute)
    {
        var first = Current;
        var items = new List<Expr>();
        bool parenthesised = AcceptOperator("(");
        do
        {
            var t = Expect(TokenKind.Name);
            Expr target = new NameExpr(At(t), t.Value);
            if (allowAttribute && AcceptOperator("."))
                target = new AttributeExpr(At(t), target, Expect(TokenKind.Name).Value);
            items.Add(target);
        } while (AcceptOperator(","));
        if (parenthesised) Expect(TokenKind.Operator, ")");
        return items.Count == 1 && !parenthesised ? items[0] : new TupleExpr(At(first), items);
    }

    private MacroNode ParseMacro(TemplateToken keyword)
    {
        var macroName = Expect(TokenKind.Name).Value;
        Expect(TokenKind.Operator, "(");
        var parameters = new List<string>();
        var defaults = new List<Expr?>();
        while (!AcceptOperator(")"))
        {
            if (parameters.Count > 0) Expect(TokenKind.Operator, ",");
            if (AcceptOperator(")")) break;
            parameters.Add(Expect(TokenKind.Name).Value);
            defaults.Add(AcceptOperator("=") ? ParseExpression(allowConditional: true) : null);
        }
        Expect(TokenKind.BlockEnd);
        var body = ParseBody(["endmacro"], out _);
        if (Current.Kind == TokenKind.Name) index++; // {% endmacro name %}
        Expect(TokenKind.BlockEnd);
        return new MacroNode(At(keyword), macroName, parameters, defaults, body);
    }

    // expr or a comma-separated tuple of them (no parentheses needed), as Jinja's parse_tuple.
    private Expr ParseTuple(bool allowConditional)
    {
        var first = Current;
        var items = new List<Expr> { ParseExpression(allowConditional) };
        bool comma = false;
        while (AcceptOperator(","))
        {
            comma = true;
            if (Current.Kind is TokenKind.BlockEnd or TokenKind.VariableEnd || Current.IsOperator(")")) break;
            items.Add(ParseExpression(allowConditional));
        }
        return comma ? new TupleExpr(At(first), items) : items[0];
    }

    private Expr ParseExpression(bool allowConditional) => allowConditional ? ParseConditional() : ParseOr();

    private Expr ParseConditional()
    {
        var value = ParseOr();
        while (Current.IsName("if"))
        {
            var at = Next();
            var condition = ParseOr();
            Expr? otherwise = AcceptName("else") ? ParseConditional() : null;
            value = new ConditionalExpr(At(at), condition, value, otherwise);
        }
        return value;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or")) { var t = Next(); left = new BinaryExpr(At(t), "or", left, ParseAnd()); }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and")) { var t = Next(); left = new BinaryExpr(At(t), "and", left, ParseNot()); }
        return left;
    }

    private Expr ParseNot()
    {
        if (Current.IsName("not")) { var t = Next(); return new UnaryExpr(At(t), "not", ParseNot()); }
        return ParseCompare();
    }

    private static readonly string[] Comparisons = ["==", "!=", "<", ">", "<=", ">="];

    private Expr ParseCompare()
    {
        var left = ParseMath1();
        Expr? result = null;
        while (true)
        {
            var t = Current;
            string? op = null;
            if (t.Kind == TokenKind.Operator && Comparisons.Contains(t.Value)) { op = t.Value; index++; }
            else if (t.IsName("in")) { op = "in"; index++; }
            else if (t.IsName("not") && Peek().IsName("in")) { op = "not in"; index += 2; }
            if (op == null) break;
            var right = ParseMath1();
            var comparison = new BinaryExpr(At(t), op, left, right);
            result = result == null ? comparison : new BinaryExpr(At(t), "and", result, comparison);
            left = right;
        }
        return result ?? left;
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-")) { var t = Next(); left = new BinaryExpr(At(t), t.Value, left, ParseConcat()); }
        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMath2();
        while (Current.IsOperator("~")) { var t = Next(); left = new BinaryExpr(At(t), "~", left, ParseMath2()); }
        return left;
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            var t = Next();
            left = new BinaryExpr(At(t), t.Value, left, ParsePow());
        }
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Current.IsOperator("**")) { var t = Next(); left = new BinaryExpr(At(t), "**", left, ParseUnary(withFilter: true)); }
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        var t = Current;
        Expr node;
        if (t.IsOperator("-") || t.IsOperator("+"))
        {
            index++;
            node = new UnaryExpr(At(t), t.Value, ParseUnary(withFilter: false));
        }
        else node = ParsePostfix(ParsePrimary());
        return withFilter ? ParseFilters(node) : node;
    }

    private Expr ParsePrimary()
    {
        var t = Next();
        switch (t.Kind)
        {
            case TokenKind.Name:
                return t.Value switch
                {
                    "true" or "True" => new LiteralExpr(At(t), true),
                    "false" or "False" => new LiteralExpr(At(t), false),
                    "none" or "None" => new LiteralExpr(At(t), null),
                    _ => new NameExpr(At(t), t.Value),
                };
            case TokenKind.String:
            {
                var text = t.Value;
                while (Current.Kind == TokenKind.String) text += Next().Value;
                return new LiteralExpr(At(t), text);
            }
            case TokenKind.Integer:
                return new LiteralExpr(At(t), long.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l
                    : throw Error(t, $"integer literal {t.Value} is too large"));
            case TokenKind.Float:
                return new LiteralExpr(At(t), double.Parse(t.Value, CultureInfo.InvariantCulture));
            case TokenKind.Operator when t.Value == "(":
            {
                if (AcceptOperator(")")) return new TupleExpr(At(t), []);
                var inner = ParseTuple(allowConditional: true);
                Expect(TokenKind.Operator, ")");
                return inner;
            }
            case TokenKind.Operator when t.Value == "[":
            {
                var items = new List<Expr>();
                while (!AcceptOperator("]"))
                {
                    if (items.Count > 0) { Expect(TokenKind.Operator, ","); if (AcceptOperator("]")) break; }
                    items.Add(ParseExpression(allowConditional: true));
                }
                return new ListExpr(At(t), items);
            }
            case TokenKind.Operator when t.Value == "{":
            {
                var items = new List<(Expr, Expr)>();
                while (!AcceptOperator("}"))
                {
                    if (items.Count > 0) { Expect(TokenKind.Operator, ","); if (AcceptOperator("}")) break; }
                    var key = ParseExpression(allowConditional: true);
                    Expect(TokenKind.Operator, ":");
                    items.Add((key, ParseExpression(allowConditional: true)));
                }
                return new DictExpr(At(t), items);
            }
            default:
                throw Error(t, $"unexpected {Describe(t)} in an expression");
        }
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOperator("."))
            {
                index++;
                var attr = Next();
                if (attr.Kind == TokenKind.Name) node = new AttributeExpr(At(t), node, attr.Value);
                else if (attr.Kind == TokenKind.Integer) node = new IndexExpr(At(t), node, new LiteralExpr(At(attr), long.Parse(attr.Value, CultureInfo.InvariantCulture)));
                else throw Error(attr, "expected an attribute name after '.'");
            }
            else if (t.IsOperator("[")) { index++; node = ParseSubscript(t, node); }
            else if (t.IsOperator("(")) { index++; node = ParseCall(t, node); }
            else return node;
        }
    }

    private Expr ParseSubscript(TemplateToken open, Expr target)
    {
        Expr? start = null, stop = null, step = null;
        if (!Current.IsOperator(":")) start = ParseExpression(allowConditional: true);
        if (!AcceptOperator(":"))
        {
            Expect(TokenKind.Operator, "]");
            return new IndexExpr(At(open), target, start!);
        }
        if (!Current.IsOperator(":") && !Current.IsOperator("]")) stop = ParseExpression(allowConditional: true);
        if (AcceptOperator(":") && !Current.IsOperator("]")) step = ParseExpression(allowConditional: true);
        Expect(TokenKind.Operator, "]");
        return new SliceExpr(At(open), target, start, stop, step);
    }

    private (List<Expr> Args, List<(string, Expr)> Kwargs) ParseArguments()
    {
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!AcceptOperator(")"))
        {
            if (args.Count + kwargs.Count > 0) { Expect(TokenKind.Operator, ","); if (AcceptOperator(")")) break; }
            if (Current.Kind == TokenKind.Name && Peek().IsOperator("="))
            {
                var key = Next().Value;
                index++;
                kwargs.Add((key, ParseExpression(allowConditional: true)));
            }
            else if (Current.IsOperator("*") || Current.IsOperator("**")) throw Error(Current, "unsupported: *args / **kwargs in a call");
            else
            {
                if (kwargs.Count > 0) throw Error(Current, "a positional argument follows a keyword argument");
                args.Add(ParseExpression(allowConditional: true));
            }
        }
        return (args, kwargs);
    }

    private CallExpr ParseCall(TemplateToken open, Expr callee)
    {
        var (args, kwargs) = ParseArguments();
        return new CallExpr(callee.At, callee, args, kwargs);
    }

    private Expr ParseFilters(Expr node)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOperator("|"))
            {
                index++;
                var filterName = Expect(TokenKind.Name).Value;
                while (AcceptOperator(".")) filterName += "." + Expect(TokenKind.Name).Value;
                List<Expr> args = [];
                List<(string, Expr)> kwargs = [];
                if (AcceptOperator("(")) (args, kwargs) = ParseArguments();
                node = new FilterExpr(At(t), node, filterName, args, kwargs);
            }
            else if (t.IsName("is"))
            {
                index++;
                bool negated = AcceptName("not");
                var testName = Expect(TokenKind.Name).Value;
                List<Expr> args = [];
                if (AcceptOperator("(")) args = ParseArguments().Args;
                else if ((Current.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
                          || Current.IsOperator("[") || Current.IsOperator("{") || Current.IsOperator("(") || Current.IsOperator("-"))
                         && !(Current.IsName("else") || Current.IsName("or") || Current.IsName("and") || Current.IsName("if")))
                {
                    if (Current.IsName("is")) throw Error(Current, "tests cannot be chained with 'is'");
                    args = [ParsePostfix(ParsePrimary())];
                }
                node = new TestExpr(At(t), node, testName, args, negated);
            }
            else if (t.IsOperator("(")) { index++; node = ParseCall(t, node); }
            else return node;
        }
    }
}
