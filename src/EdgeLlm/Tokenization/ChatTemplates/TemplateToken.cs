namespace EdgeLlm.Tokenization.ChatTemplates;

internal enum TokenKind
{
    Text, VariableBegin, VariableEnd, BlockBegin, BlockEnd,
    Name, String, Integer, Float, Operator, End,
}

/// <summary>One lexical token with the 1-based line and column where it starts in the template.</summary>
internal readonly record struct TemplateToken(TokenKind Kind, string Value, int Line, int Column)
{
    public bool Is(TokenKind kind, string value) => Kind == kind && Value == value;
    public bool IsName(string value) => Kind == TokenKind.Name && Value == value;
    public bool IsOperator(string value) => Kind == TokenKind.Operator && Value == value;
}
