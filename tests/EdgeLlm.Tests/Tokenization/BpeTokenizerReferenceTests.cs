using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Tokenization;

public class BpeTokenizerReferenceTests
{
    public static TheoryData<string> Vocabularies => new() { "gpt2", "llama3", "qwen3", "phi-2" };

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Encode_matches_transformers_js_for_every_reference_text(string vocabulary)
    {
        var tokenizer = TokenizerFixtures.Get(vocabulary);
        var texts = ReferenceEncodings.Texts;
        var expected = ReferenceEncodings.IdsFor(vocabulary);
        Assert.Equal(texts.Count, expected.Length);

        var failures = new List<string>();
        for (var i = 0; i < texts.Count; i++)
        {
            var actual = tokenizer.Encode(texts[i]);
            if (!actual.AsSpan().SequenceEqual(expected[i]))
                failures.Add(ReferenceEncodings.Describe(i, texts[i], expected[i], actual));
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {texts.Count} texts differ:\n" + string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Decode_of_reference_ids_gives_back_each_text(string vocabulary)
    {
        var tokenizer = TokenizerFixtures.Get(vocabulary);
        var texts = ReferenceEncodings.Texts;
        var ids = ReferenceEncodings.IdsFor(vocabulary);

        var failures = new List<string>();
        for (var i = 0; i < texts.Count; i++)
        {
            var decoded = tokenizer.Decode(ids[i]);
            if (decoded != texts[i])
                failures.Add($"text #{i}: expected {Preview(texts[i])} got {Preview(decoded)}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {texts.Count} decodes differ:\n" + string.Join("\n", failures));
    }

    private static string Preview(string s) => System.Text.Json.JsonSerializer.Serialize(s.Length > 60 ? s[..60] : s);
}
