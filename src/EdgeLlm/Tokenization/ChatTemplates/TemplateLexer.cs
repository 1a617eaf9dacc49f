using System.Globalization;
using System.Text;

namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>
/// Splits a template into text and tag tokens the way Jinja2's lexer does with the settings transformers
/// uses (trim_blocks, lstrip_blocks, keep_trailing_newline=False): newlines normalised to "\n", one trailing
/// newline dropped, "-" strips whitespace beside a tag, "+" keeps it, trim_blocks removes the newline after a
/// block or comment tag, lstrip_blocks removes the indentation before one.
/// </summary>
internal sealed class TemplateLexer(string source, string name)
{
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", "<", ">", "=", ".", ":", "|", ",", ";"];

    private readonly string src = Normalize(source);
    private readonly List<TemplateToken> tokens = [];
    private int pos;

    private static string Normalize(string text)
    {
        text = text.Replace("\r\n", "\n").Replace('\r', '\n');
        return text.EndsWith('\n') ? text[..^1] : text;
    }

    public static List<TemplateToken> Tokenize(string source, string name) => new TemplateLexer(source, name).Run();

    private List<TemplateToken> Run()
    {
        bool lineStarting = true;
        while (pos < src.Length)
        {
            int start = NextTag(pos);
            string text = src[pos..(start < 0 ? src.Length : start)];
            if (start < 0)
            {
                Emit(TokenKind.Text, text, pos);
                break;
            }
            char kind = src[start + 1];
            char sign = start + 2 < src.Length ? src[start + 2] : '\0';
            if (sign == '-') text = text.TrimEnd();
            else if (sign != '+' && kind != '{')
            {
                int lineStart = text.LastIndexOf('\n') + 1;
                if ((lineStart > 0 || lineStarting) && lineStart < text.Length && text.AsSpan(lineStart).IsWhiteSpace())
                    text = text[..lineStart];
            }
            Emit(TokenKind.Text, text, pos);
            pos = start + 2 + (sign is '-' or '+' ? 1 : 0);
            lineStarting = kind == '#' ? SkipComment(start) : LexTag(kind, start);
        }
        tokens.Add(new TemplateToken(TokenKind.End, "", Position(src.Length).Line, Position(src.Length).Column));
        return tokens;
    }

    private int NextTag(int from)
    {
        for (int i = src.IndexOf('{', from); i >= 0 && i + 1 < src.Length; i = src.IndexOf('{', i + 1))
            if (src[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    // Returns whether the consumed text ended with a newline (Jinja's line_starting).
    private bool SkipComment(int start)
    {
        int end = src.IndexOf("#}", pos, StringComparison.Ordinal);
        if (end < 0) throw Error(start, "unterminated comment (no '#}')");
        char sign = end > pos ? src[end - 1] : '\0';
        pos = end + 2;
        return AfterTagEnd(sign, block: true);
    }

    private bool AfterTagEnd(char sign, bool block)
    {
        int before = pos;
        if (sign == '-') while (pos < src.Length && char.IsWhiteSpace(src[pos])) pos++;
        else if (sign != '+' && block && pos < src.Length && src[pos] == '\n') pos++;
        return pos > before && src[pos - 1] == '\n';
    }

    private bool LexTag(char kind, int start)
    {
        bool block = kind == '%';
        Emit(block ? TokenKind.BlockBegin : TokenKind.VariableBegin, "", start);
        string close = block ? "%}" : "}}";
        int depth = 0;
        while (true)
        {
            while (pos < src.Length && char.IsWhiteSpace(src[pos])) pos++;
            if (pos >= src.Length) throw Error(start, $"unterminated tag (no '{close}')");
            if (depth == 0)
            {
                char sign = src[pos] is '-' or '+' && string.CompareOrdinal(src, pos + 1, close, 0, 2) == 0 ? src[pos] : '\0';
                if (sign != '\0' || string.CompareOrdinal(src, pos, close, 0, 2) == 0)
                {
                    Emit(block ? TokenKind.BlockEnd : TokenKind.VariableEnd, "", pos);
                    pos += sign != '\0' ? 3 : 2;
                    return AfterTagEnd(sign, block);
                }
            }
            char c = src[pos];
            if (c is '\'' or '"') LexString(c);
            else if (char.IsAsciiDigit(c)) LexNumber();
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                int s = pos;
                while (pos < src.Length && (char.IsAsciiLetterOrDigit(src[pos]) || src[pos] == '_')) pos++;
                Emit(TokenKind.Name, src[s..pos], s);
            }
            else
            {
                var op = Operators.FirstOrDefault(o => string.CompareOrdinal(src, pos, o, 0, o.Length) == 0)
                    ?? throw Error(pos, $"unexpected character '{c}'");
                if (op is "(" or "[" or "{") depth++;
                else if (op is ")" or "]" or "}")
                {
                    if (depth == 0) throw Error(pos, $"unexpected '{op}'");
                    depth--;
                }
                Emit(TokenKind.Operator, op, pos);
                pos += op.Length;
            }
        }
    }

    private void LexNumber()
    {
        int s = pos;
        while (pos < src.Length && (char.IsAsciiDigit(src[pos]) || src[pos] == '_')) pos++;
        bool isFloat = false;
        if (pos + 1 < src.Length && src[pos] == '.' && char.IsAsciiDigit(src[pos + 1]))
        {
            isFloat = true;
            pos++;
            while (pos < src.Length && (char.IsAsciiDigit(src[pos]) || src[pos] == '_')) pos++;
        }
        if (pos < src.Length && src[pos] is 'e' or 'E')
        {
            int e = pos + 1;
            if (e < src.Length && src[e] is '+' or '-') e++;
            if (e < src.Length && char.IsAsciiDigit(src[e]))
            {
                isFloat = true;
                pos = e;
                while (pos < src.Length && char.IsAsciiDigit(src[pos])) pos++;
            }
        }
        Emit(isFloat ? TokenKind.Float : TokenKind.Integer, src[s..pos].Replace("_", ""), s);
    }

    // Python's unicode-escape decoding of the literal's body, as Jinja2 applies it.
    private void LexString(char quote)
    {
        int s = pos++;
        var value = new StringBuilder();
        while (true)
        {
            if (pos >= src.Length) throw Error(s, "unterminated string literal");
            char c = src[pos++];
            if (c == quote) break;
            if (c != '\\') { value.Append(c); continue; }
            if (pos >= src.Length) throw Error(s, "unterminated string literal");
            char e = src[pos++];
            switch (e)
            {
                case 'n': value.Append('\n'); break;
                case 't': value.Append('\t'); break;
                case 'r': value.Append('\r'); break;
                case '\\': value.Append('\\'); break;
                case '\'': value.Append('\''); break;
                case '"': value.Append('"'); break;
                case 'a': value.Append('\a'); break;
                case 'b': value.Append('\b'); break;
                case 'f': value.Append('\f'); break;
                case 'v': value.Append('\v'); break;
                case '\n': break;
                case 'x': value.Append(HexEscape(2, s)); break;
                case 'u': value.Append(HexEscape(4, s)); break;
                case 'U': value.Append(HexEscape(8, s)); break;
                case >= '0' and <= '7':
                {
                    int v = e - '0', n = 1;
                    while (n < 3 && pos < src.Length && src[pos] is >= '0' and <= '7') { v = v * 8 + (src[pos++] - '0'); n++; }
                    value.Append((char)v);
                    break;
                }
                default: value.Append('\\').Append(e); break;
            }
        }
        Emit(TokenKind.String, value.ToString(), s);
    }

    private string HexEscape(int digits, int literalStart)
    {
        if (pos + digits > src.Length || !int.TryParse(src.AsSpan(pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
            throw Error(literalStart, $"truncated \\{(digits == 2 ? 'x' : digits == 4 ? 'u' : 'U')} escape in a string literal");
        pos += digits;
        return char.ConvertFromUtf32(code);
    }

    private void Emit(TokenKind kind, string value, int at)
    {
        if (kind == TokenKind.Text && value.Length == 0) return;
        var (line, column) = Position(at);
        tokens.Add(new TemplateToken(kind, value, line, column));
    }

    private (int Line, int Column) Position(int at)
    {
        int line = 1, lineStart = 0;
        for (int i = 0; i < at && i < src.Length; i++)
            if (src[i] == '\n') { line++; lineStart = i + 1; }
        return (line, at - lineStart + 1);
    }

    private ChatTemplateException Error(int at, string problem)
    {
        var (line, column) = Position(at);
        return new ChatTemplateException(name, line, column, problem);
    }
}
