using System.Net;
using System.Reflection;
using System.Text;

namespace EdgeLlm.Analysis.Display;

/// <summary>
/// A titled list of named values, displayed as an HTML card in notebooks and as aligned lines in terminals.
/// <see cref="Rich.Card"/> builds one from any library object (benchmark result, model, pruning report, evaluation result).
/// </summary>
public sealed record DisplayCard(string Title, IReadOnlyList<KeyValuePair<string, string>> Fields)
{
    public string ToHtml()
    {
        var sb = new StringBuilder("<div class=\"edgellm-card\"><b>").Append(WebUtility.HtmlEncode(Title)).Append("</b><table>");
        foreach (var (k, v) in Fields)
            sb.Append("<tr><th style=\"text-align:left\">").Append(WebUtility.HtmlEncode(k)).Append("</th><td>").Append(WebUtility.HtmlEncode(v)).Append("</td></tr>");
        return sb.Append("</table></div>").ToString();
    }

    public string ToText()
    {
        int w = Fields.Count == 0 ? 0 : Fields.Max(f => f.Key.Length);
        return Title + Environment.NewLine + string.Join(Environment.NewLine, Fields.Select(f => "  " + f.Key.PadRight(w) + "  " + f.Value));
    }

    public override string ToString() => ToText();

    /// <summary>A card of an object's public scalar properties (records, F# records), nested records flattened with a dot.</summary>
    public static DisplayCard FromProperties(string title, object value)
    {
        var fields = new List<KeyValuePair<string, string>>();
        Collect("", value, fields, 0);
        return new DisplayCard(title, fields);
    }

    private static void Collect(string prefix, object value, List<KeyValuePair<string, string>> fields, int depth)
    {
        foreach (var p in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            object? v;
            try { v = p.GetValue(value); } catch (TargetInvocationException) { continue; }
            var name = prefix + p.Name;
            if (v is null) fields.Add(new(name, "null"));
            else if (v is string or bool or Enum || v.GetType().IsPrimitive || v is decimal) fields.Add(new(name, Rich.Scalar(v, p.Name)));
            else if (depth < 1 && v is not System.Collections.IEnumerable && v.GetType().Namespace?.StartsWith("EdgeLlm") == true) Collect(name + ".", v, fields, depth + 1);
        }
    }
}
