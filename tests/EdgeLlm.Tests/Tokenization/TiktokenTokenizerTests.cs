using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Tokenization;

public class TiktokenTokenizerTests(QwenTiktokenFixture fixture) : IClassFixture<QwenTiktokenFixture>
{
    [Fact]
    public void Rank_merging_reproduces_qwen3_reference_ids_for_texts_without_special_tokens()
    {
        var qwen3 = TokenizerFixtures.Get("qwen3");
        var texts = ReferenceEncodings.Texts;
        var expected = ReferenceEncodings.IdsFor("qwen3");
        var failures = new List<string>();
        var compared = 0;
        for (var i = 0; i < texts.Count; i++)
        {
            if (qwen3.SpecialTokens.Any(s => texts[i].Contains(s, StringComparison.Ordinal))) continue;
            compared++;
            var actual = fixture.Tokenizer.Encode(texts[i]);
            if (!actual.AsSpan().SequenceEqual(expected[i]))
                failures.Add(ReferenceEncodings.Describe(i, texts[i], expected[i], actual));
        }
        Assert.True(compared > 150, $"only {compared} texts compared");
        Assert.True(failures.Count == 0, $"{failures.Count} of {compared} texts differ:\n" + string.Join("\n", failures));
    }

    [Fact]
    public void Decode_of_qwen3_reference_ids_gives_back_each_text()
    {
        var texts = ReferenceEncodings.Texts;
        var ids = ReferenceEncodings.IdsFor("qwen3");
        var failures = Enumerable.Range(0, texts.Count)
            .Where(i => fixture.Tokenizer.Decode(ids[i]) != texts[i]).ToList();
        Assert.True(failures.Count == 0, "decodes differ for texts " + string.Join(",", failures));
    }

    [Fact]
    public void Qwen_special_tokens_follow_the_last_rank_and_are_recognised_in_text()
    {
        var tok = fixture.Tokenizer;
        var lastRank = File.ReadLines(fixture.FilePath).Select(l => int.Parse(l.Split(' ')[1])).Max();
        Assert.Equal(lastRank + 1, tok.TokenToId("<|endoftext|>"));
        Assert.Equal(lastRank + 3, tok.TokenToId("<|im_end|>"));
        Assert.Equal(lastRank + 3 + 205, tok.TokenToId("<|extra_204|>"));
        Assert.Equal(lastRank + 3 + 205 + 1, tok.VocabSize);
        Assert.Equal(tok.TokenToId("<|endoftext|>"), tok.EosTokenId);

        var ids = tok.Encode("a<|im_start|>b");
        Assert.Equal([tok.Encode("a")[0], lastRank + 2, tok.Encode("b")[0]], ids);
        Assert.Equal("ab", tok.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("a<|im_start|>b", tok.Decode(ids));
    }

    [Fact]
    public void Tokenizers_Load_picks_the_tiktoken_file_in_a_folder()
    {
        var tok = Tokenizers.Load(fixture.Folder);
        Assert.IsType<TiktokenTokenizer>(tok);
        Assert.Equal(fixture.Tokenizer.Encode("hello world"), tok.Encode("hello world"));
    }
}
