using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Tokenization;

public sealed class TokenizerConfigTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("edgellm-tok-config-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Config(string json)
    {
        var path = Path.Combine(dir, "tokenizer_config.json");
        File.WriteAllText(path, json);
        return path;
    }

    private static string Llama3Json => SharedData.Path("tokenizers", "llama3", "tokenizer.json");

    [Fact]
    public void Add_bos_token_prepends_bos_only_when_adding_special_tokens()
    {
        var tok = BpeTokenizer.FromFile(Llama3Json,
            Config("""{"bos_token":"<|begin_of_text|>","eos_token":"<|end_of_text|>","add_bos_token":true}"""));
        var plain = tok.Encode("Hello world");
        Assert.True(tok.AddBosToken);
        Assert.Equal(tok.TokenToId("<|begin_of_text|>"), tok.BosTokenId);
        Assert.Equal([tok.BosTokenId!.Value, .. plain], tok.Encode("Hello world", addSpecialTokens: true));
        Assert.DoesNotContain(tok.BosTokenId!.Value, plain);
    }

    [Fact]
    public void Special_tokens_may_be_objects_with_content_and_add_eos_token_appends_eos()
    {
        var tok = BpeTokenizer.FromFile(Llama3Json, Config("""
            {"bos_token":{"content":"<|begin_of_text|>","lstrip":false},
             "eos_token":{"__type":"AddedToken","content":"<|end_of_text|>"},
             "add_bos_token":false,"add_eos_token":true}
            """));
        Assert.False(tok.AddBosToken);
        Assert.Equal(tok.TokenToId("<|end_of_text|>"), tok.EosTokenId);
        Assert.Equal(tok.TokenToId("<|begin_of_text|>"), tok.BosTokenId);
        Assert.Equal([.. tok.Encode("Hi"), tok.EosTokenId!.Value], tok.Encode("Hi", addSpecialTokens: true));
    }

    [Fact]
    public void Shared_configs_give_expected_bos_eos()
    {
        var qwen = TokenizerFixtures.Get("qwen3");
        Assert.Null(qwen.BosTokenId);
        Assert.False(qwen.AddBosToken);
        Assert.Equal(qwen.TokenToId("<|im_end|>"), qwen.EosTokenId);
        Assert.Equal(qwen.Encode("x"), qwen.Encode("x", addSpecialTokens: true));

        var gpt2 = TokenizerFixtures.Get("gpt2");
        Assert.Equal(50256, gpt2.EosTokenId);
        Assert.Equal(50257, gpt2.VocabSize);
    }

    [Fact]
    public void Bad_add_bos_token_value_is_rejected_with_file_name()
    {
        var path = Config("""{"add_bos_token":"yes"}""");
        var e = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromFile(Llama3Json, path));
        Assert.Contains("add_bos_token", e.Message);
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void Special_tokens_in_text_are_recognised_and_can_be_skipped_when_decoding()
    {
        var tok = TokenizerFixtures.Get("llama3");
        var ids = tok.Encode("<|start_header_id|>user<|end_header_id|>");
        Assert.Equal(tok.TokenToId("<|start_header_id|>"), ids[0]);
        Assert.Equal(tok.TokenToId("<|end_header_id|>"), ids[^1]);
        Assert.Equal("user", tok.Decode(ids, skipSpecialTokens: true));
        Assert.Contains("<|start_header_id|>", tok.SpecialTokens);
    }

    [Fact]
    public void Nfc_normalizer_makes_decomposed_and_composed_text_encode_alike()
    {
        var qwen = TokenizerFixtures.Get("qwen3");
        Assert.Equal(qwen.Encode("caf\u00E9 \uD55C"), qwen.Encode("cafe\u0301 \u1112\u1161\u11AB"));
    }
}
