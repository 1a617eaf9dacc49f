using System.Globalization;
using System.Text;

namespace EdgeLlm.Evaluation.Text.Jieba;

/// <summary>
/// Reads the one assignment <c>P = {...}</c> of jieba's finalseg/prob_*.py: a dict literal whose keys are
/// string literals and whose values are numbers or nested dicts of the same kind.
/// </summary>
internal sealed class PythonDictLiteral
{
    private readonly string text;
    private readonly string path;
    private int position;

    private PythonDictLiteral(string text, string path) { this.text = text; this.path = path; }

    /// <summary>The value assigned to P: a Dictionary&lt;string, object&gt; whose values are double or nested dictionaries.</summary>
    public static Dictionary<string, object> ReadAssignment(string path)
    {
        var text = File.ReadAllText(path, Encoding.UTF8);
        var reader = new PythonDictLiteral(text, path);
        int assignment = text.IndexOf("P=", StringComparison.Ordinal) is var i and >= 0 ? i : text.IndexOf("P =", StringComparison.Ordinal);
        if (assignment < 0) throw reader.Error("no 'P = {' assignment");
        reader.position = text.IndexOf('{', assignment);
        if (reader.position < 0) throw reader.Error("no '{' after 'P ='");
        return reader.ReadDict();
    }

    private Dictionary<string, object> ReadDict()
    {
        Expect('{');
        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        while (true)
        {
            SkipSpace();
            if (Peek() == '}') { position++; return result; }
            var key = ReadString();
            SkipSpace();
            Expect(':');
            SkipSpace();
            result[key] = Peek() == '{' ? ReadDict() : ReadNumber();
            SkipSpace();
            if (Peek() == ',') position++;
            else if (Peek() != '}') throw Error("expected ',' or '}'");
        }
    }

    private string ReadString()
    {
        char quote = Peek();
        if (quote != '\'' && quote != '"') throw Error("expected a string key");
        position++;
        var sb = new StringBuilder();
        while (Peek() != quote)
        {
            char c = text[position++];
            if (c != '\\') { sb.Append(c); continue; }
            char e = text[position++];
            switch (e)
            {
                case 'u': sb.Append((char)Hex(4)); break;
                case 'U': sb.Append(char.ConvertFromUtf32(Hex(8))); break;
                case 'x': sb.Append((char)Hex(2)); break;
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '\\' or '\'' or '"': sb.Append(e); break;
                default: throw Error($"unsupported escape \\{e}");
            }
        }
        position++;
        return sb.ToString();
    }

    private int Hex(int digits)
    {
        if (position + digits > text.Length) throw Error("truncated escape");
        var value = int.Parse(text.AsSpan(position, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        position += digits;
        return value;
    }

    private double ReadNumber()
    {
        int start = position;
        while (position < text.Length && (char.IsAsciiDigit(text[position]) || text[position] is '-' or '+' or '.' or 'e' or 'E'))
            position++;
        if (!double.TryParse(text.AsSpan(start, position - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            throw Error("expected a number");
        return value;
    }

    private void SkipSpace()
    {
        while (position < text.Length && char.IsWhiteSpace(text[position])) position++;
    }

    private char Peek() => position < text.Length ? text[position] : throw Error("unexpected end of file");

    private void Expect(char c)
    {
        if (Peek() != c) throw Error($"expected '{c}'");
        position++;
    }

    private FormatException Error(string what)
    {
        int line = 1 + text.AsSpan(0, Math.Min(position, text.Length)).Count('\n');
        return new FormatException($"{path} line {line}: {what} (expected jieba's finalseg table, a Python dict literal).");
    }
}
