using System.Text;

namespace EdgeLlm.Tokenization;

/// <summary>NFC normalization.</summary>
internal static class Nfc
{
    public static string Normalize(string text) => text.Normalize(NormalizationForm.FormC);
}
