using System.Text;

namespace EdgeLlm.Tokenization;

/// <summary>
/// Unicode normalization (tokenizer.json's NFC/NFD/NFKC/NFKD, or a Sequence of them) as a Microsoft.ML.Tokenizers
/// normalizer: the library ships lower/upper-case, BERT and SentencePiece normalizers but none of these forms.
/// </summary>
internal sealed class TextNormalizer(IReadOnlyList<NormalizationForm> forms) : Microsoft.ML.Tokenizers.Normalizer
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

    public override string Normalize(string original) => Apply(original);

    public override string Normalize(ReadOnlySpan<char> original) => Apply(original.ToString());

    // Below U+0300 (U+00A0 for the compatibility forms) nothing decomposes or composes.
    private static bool IsTriviallyNormalized(string text, NormalizationForm form)
    {
        var limit = form is NormalizationForm.FormC or NormalizationForm.FormD ? '\u0300' : '\u00A0';
        foreach (var c in text)
            if (c >= limit) return false;
        return true;
    }
}
