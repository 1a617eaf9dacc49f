namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>Where a node starts in the template, for error messages.</summary>
internal readonly record struct SourcePosition(int Line, int Column);

internal abstract record Node(SourcePosition At);

// Statements
internal sealed record TextNode(SourcePosition At, string Text) : Node(At);
internal sealed record OutputNode(SourcePosition At, Expr Value) : Node(At);
internal sealed record IfNode(SourcePosition At, Expr Condition, List<Node> Then, List<Node> Else) : Node(At);
internal sealed record ForNode(SourcePosition At, Expr Target, Expr Iterable, Expr? Filter, List<Node> Body, List<Node> Else) : Node(At);
internal sealed record SetNode(SourcePosition At, Expr Target, Expr Value) : Node(At);
internal sealed record SetBlockNode(SourcePosition At, string Name, List<Node> Body) : Node(At);
internal sealed record MacroNode(SourcePosition At, string Name, List<string> Parameters, List<Expr?> Defaults, List<Node> Body) : Node(At);
internal sealed record BreakNode(SourcePosition At) : Node(At);
internal sealed record ContinueNode(SourcePosition At) : Node(At);
internal sealed record ExprStatementNode(SourcePosition At, Expr Value) : Node(At);

// Expressions
internal abstract record Expr(SourcePosition At) : Node(At);
internal sealed record LiteralExpr(SourcePosition At, object? Value) : Expr(At);
internal sealed record NameExpr(SourcePosition At, string Name) : Expr(At);
internal sealed record ListExpr(SourcePosition At, List<Expr> Items) : Expr(At);
internal sealed record TupleExpr(SourcePosition At, List<Expr> Items) : Expr(At);
internal sealed record DictExpr(SourcePosition At, List<(Expr Key, Expr Value)> Items) : Expr(At);
internal sealed record AttributeExpr(SourcePosition At, Expr Target, string Name) : Expr(At);
internal sealed record IndexExpr(SourcePosition At, Expr Target, Expr Index) : Expr(At);
internal sealed record SliceExpr(SourcePosition At, Expr Target, Expr? Start, Expr? Stop, Expr? Step) : Expr(At);
internal sealed record CallExpr(SourcePosition At, Expr Callee, List<Expr> Args, List<(string Name, Expr Value)> Kwargs) : Expr(At);
internal sealed record FilterExpr(SourcePosition At, Expr Value, string Name, List<Expr> Args, List<(string Name, Expr Value)> Kwargs) : Expr(At);
internal sealed record TestExpr(SourcePosition At, Expr Value, string Name, List<Expr> Args, bool Negated) : Expr(At);
internal sealed record UnaryExpr(SourcePosition At, string Operator, Expr Operand) : Expr(At);
internal sealed record BinaryExpr(SourcePosition At, string Operator, Expr Left, Expr Right) : Expr(At);
internal sealed record ConditionalExpr(SourcePosition At, Expr Condition, Expr Then, Expr? Else) : Expr(At);
