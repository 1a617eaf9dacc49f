namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>
/// A chat template that cannot be parsed (unsupported or malformed syntax) or that failed while rendering
/// (an undefined attribute, a type error, its own <c>raise_exception</c>). The message is one line naming
/// the template and, where known, the line:column of the construct.
/// </summary>
public class ChatTemplateException(string template, int line, int column, string problem, Exception? inner = null)
    : EdgeLlmException(line > 0 ? $"{template}:{line}:{column}: {problem}" : $"{template}: {problem}", inner)
{
    public string Template { get; } = template;
    public int Line { get; } = line;
    public int Column { get; } = column;
    public string Problem { get; } = problem;
}

/// <summary>The template called <c>raise_exception(message)</c>: it refuses these messages on purpose.</summary>
public sealed class ChatTemplateRaisedException(string template, int line, int column, string message)
    : ChatTemplateException(template, line, column, "the template raised: " + message)
{
    public string TemplateMessage { get; } = message;
}

/// <summary>A Python-level error (TypeError, UndefinedError…) raised while evaluating; the evaluator adds the position.</summary>
internal sealed class TemplateRuntimeError(string message) : Exception(message);

/// <summary>raise_exception(message) unwinding to the call's position.</summary>
internal sealed class TemplateRaise(string message) : Exception(message);
