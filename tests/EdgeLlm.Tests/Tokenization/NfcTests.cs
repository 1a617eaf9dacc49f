using System.Text;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Tokenization;

public class NfcTests
{
    [Theory]
    [InlineData("cafe\u0301", "caf\u00E9")]
    [InlineData("\u1112\u1161\u11AB\u1100\u1173\u11AF", "\uD55C\uAE00")] // conjoining jamo → Hangul syllables
    [InlineData("\u212B", "\u00C5")] // singleton (Angstrom sign)
    [InlineData("a\u0323\u0302", "\u1EAD")] // ordering then composition: ậ
    [InlineData("a\u0302\u0323", "\u1EAD")]
    [InlineData("\u0301e", "\u0301e")] // leading combining mark stays
    [InlineData("\uD840\uDC00 plain \uD83D\uDE00", "\uD840\uDC00 plain \uD83D\uDE00")]
    public void Normalizes_like_unicode_nfc(string input, string expected)
    {
        Assert.Equal(expected, new TextNormalizer([System.Text.NormalizationForm.FormC]).Apply(input));
    }

    [Fact]
    public void Reference_texts_are_left_unchanged()
    {
        foreach (var text in ReferenceEncodings.Texts) Assert.Equal(text, new TextNormalizer([System.Text.NormalizationForm.FormC]).Apply(text));
    }
}
