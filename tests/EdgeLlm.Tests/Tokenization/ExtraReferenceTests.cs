using EdgeLlm.Tokenization;
using Ml = Microsoft.ML.Tokenizers;

namespace EdgeLlm.Tests.Tokenization;

/// <summary>
/// The tokenizers against @huggingface/tokenizers on texts the shared set lacks: astral letters and digits, long
/// whitespace runs (Phi-2's added whitespace tokens), added tokens beside text, NFC, and the 588 Llama-3 tokens that
/// only ignore_merges emits whole. The library tokenizer each one exposes must give the same ids on its own.
/// </summary>
public class ExtraReferenceTests
{
    public static TheoryData<string> Vocabularies => new() { "gpt2", "llama3", "qwen3", "phi-2" };

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Encode_matches_tokenizers_js(string vocabulary)
    {
        var tokenizer = TokenizerFixtures.Get(vocabulary);
        var failures = Differences(ExtraReferenceEncodings.IdsFor(vocabulary), t => tokenizer.Encode(t));
        Assert.True(failures.Count == 0, $"{failures.Count} of {ExtraReferenceEncodings.Texts.Count} texts differ:\n" + string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void The_exposed_Microsoft_ML_tokenizer_gives_the_same_ids_alone(string vocabulary)
    {
        var library = TokenizerFixtures.Get(vocabulary).Tokenizer;
        var failures = Differences(ExtraReferenceEncodings.IdsFor(vocabulary), t => library.EncodeToIds(t).ToArray());
        var texts = ReferenceEncodings.Texts;
        var shared = ReferenceEncodings.IdsFor(vocabulary);
        for (var i = 0; i < texts.Count; i++)
        {
            var actual = library.EncodeToIds(texts[i]).ToArray();
            if (!actual.AsSpan().SequenceEqual(shared[i])) failures.Add("shared " + ReferenceEncodings.Describe(i, texts[i], shared[i], actual));
        }
        Assert.True(failures.Count == 0, $"{failures.Count} texts differ:\n" + string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Decode_skipping_special_tokens_matches_tokenizers_js(string vocabulary)
    {
        var tokenizer = TokenizerFixtures.Get(vocabulary);
        var ids = ExtraReferenceEncodings.IdsFor(vocabulary);
        var expected = ExtraReferenceEncodings.DecodedSkippingSpecialFor(vocabulary);
        var texts = ExtraReferenceEncodings.Texts;
        // Qwen's NFC normalizer makes decomposed text come back composed.
        string Plain(string t) => vocabulary == "qwen3" ? t.Normalize(System.Text.NormalizationForm.FormC) : t;
        var failures = Enumerable.Range(0, texts.Count)
            .Where(i => tokenizer.Decode(ids[i], skipSpecialTokens: true) != expected[i] || tokenizer.Decode(ids[i]) != Plain(texts[i]))
            .Select(i => $"text #{i} {System.Text.Json.JsonSerializer.Serialize(texts[i])}").ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} decodes differ:\n" + string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void Ids_past_the_vocabulary_decode_to_nothing_as_in_tokenizers_js(string vocabulary)
    {
        var tokenizer = TokenizerFixtures.Get(vocabulary);
        var (size, ids, expected) = ExtraReferenceEncodings.PastVocabularyFor(vocabulary);
        Assert.Equal(size, tokenizer.VocabSize);
        Assert.Contains(ids, i => i.Contains(size)); // the reference really holds ids past the vocabulary
        for (int i = 0; i < ids.Length; i++)
        {
            Assert.Equal(expected[i], tokenizer.Decode(ids[i]));
            // The streaming decoder's bytes, one token at a time, make the same text.
            var bytes = ids[i].SelectMany(id => tokenizer.TokenBytes(id).ToArray()).ToArray();
            Assert.Equal(expected[i], System.Text.Encoding.UTF8.GetString(bytes));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([-1]));
    }

    [Fact]
    public void Each_file_is_handed_to_the_library_type_that_encodes_it_exactly()
    {
        Assert.IsType<Ml.BpeTokenizer>(TokenizerFixtures.Get("gpt2").Tokenizer);
        Assert.IsType<Ml.BpeTokenizer>(TokenizerFixtures.Get("phi-2").Tokenizer);
        Assert.IsType<Ml.BpeTokenizer>(TokenizerFixtures.Get("qwen3").Tokenizer);
        // ignore_merges: the library's BpeTokenizer would split " jeho" (one Llama-3 token) into three.
        var llama3 = TokenizerFixtures.Get("llama3");
        Assert.IsType<Ml.TiktokenTokenizer>(llama3.Tokenizer);
        Assert.Equal([101503], llama3.Encode(" jeho"));
    }

    [Fact]
    public void Phi2_whitespace_runs_are_added_tokens_that_decoding_keeps()
    {
        var phi2 = TokenizerFixtures.Get("phi-2");
        Assert.Equal(50294, phi2.VocabSize - 1);
        Assert.Equal(["<|endoftext|>"], phi2.SpecialTokens);
        var ids = phi2.Encode("a    b<|endoftext|>");
        Assert.Equal([64, 50284, 65, 50256], ids); // 4 spaces are token 50284 (31..2 spaces are 50257..50286)
        Assert.Equal("a    b", phi2.Decode(ids, skipSpecialTokens: true));
    }

    private static List<string> Differences(int[][] expected, Func<string, int[]> encode)
    {
        var texts = ExtraReferenceEncodings.Texts;
        Assert.Equal(texts.Count, expected.Length);
        var failures = new List<string>();
        for (var i = 0; i < texts.Count; i++)
        {
            var actual = encode(texts[i]);
            if (!actual.AsSpan().SequenceEqual(expected[i])) failures.Add(ReferenceEncodings.Describe(i, texts[i], expected[i], actual));
        }
        return failures;
    }
}
