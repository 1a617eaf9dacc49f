using System.Text;

namespace EdgeLlm.Tokenization;

/// <summary>Unicode normalization applied to plain-text segments before pre-tokenization.</summary>
internal sealed class TextNormalizer(IReadOnlyList<NormalizationForm> forms)
{
    public IReadOnlyList<NormalizationForm> Forms { get; } = forms;

    public string Apply(string text)
    {
        foreach (var form in Forms)
        {
            if (IsTriviallyNormalized(text, form)) continue;
            text = text.Normalize(form);
        }
        return text;
    }

    // Below U+0300 (U+00A0 for the compatibility forms) nothing decomposes or composes.
    private static bool IsTriviallyNormalized(string text, NormalizationForm form)
    {
        var limit = form is NormalizationForm.FormC or NormalizationForm.FormD ? '\u0300' : '\u00A0';
        foreach (var c in text)
            if (c >= limit) return false;
        return true;
    }
}
