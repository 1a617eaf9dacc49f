using EdgeLlm.Analysis.Charts;
using EdgeLlm.Analysis.Tables;

namespace EdgeLlm.Analysis.Display;

/// <summary>The formatters .NET Interactive discovers through <see cref="TypeFormatterSourceAttribute"/> (HTML and plain text).</summary>
public sealed class EdgeLlmFormatterSource
{
    public IEnumerable<object> CreateTypeFormatters()
    {
        foreach (var type in new[] { typeof(ResultTable), typeof(PlotlyFigure), typeof(DisplayCard) })
        {
            yield return new ConventionFormatter(type, "text/html");
            yield return new ConventionFormatter(type, "text/plain");
        }
    }
}

/// <summary>One formatter in the shape .NET Interactive looks for: MimeType, Type, and bool Format(object, TextWriter).</summary>
public sealed class ConventionFormatter(Type type, string mimeType)
{
    public Type Type { get; } = type;
    public string MimeType { get; } = mimeType;

    public bool Format(object instance, TextWriter writer)
    {
        if (instance is null || !Type.IsInstanceOfType(instance)) return false;
        writer.Write(MimeType == "text/html" ? Rich.Html(instance) : Rich.Text(instance));
        return true;
    }
}
