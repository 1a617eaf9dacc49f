namespace EdgeLlm.Analysis.Display;

/// <summary>
/// .NET Interactive's convention for formatters without a package reference: its Formatter looks for an attribute
/// whose type is named <c>TypeFormatterSourceAttribute</c> (any namespace) with a <c>FormatterSourceType</c>
/// property, creates that type with its public parameterless constructor, calls its public <c>CreateTypeFormatters()</c>,
/// and uses every returned object that has a string <c>MimeType</c> property, an optional <c>Type</c> property and a
/// public <c>bool Format(object, TextWriter)</c> method.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = true, Inherited = true)]
public sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
{
    public Type FormatterSourceType { get; } = formatterSourceType;
    public string[] PreferredMimeTypes { get; set; } = ["text/html", "text/plain"];
}
