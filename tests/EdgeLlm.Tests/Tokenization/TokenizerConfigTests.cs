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

    // GPT-2's shared tokenizer.json with its ByteLevel post_processor replaced by Llama-3.1's layout: a Sequence of
    // ByteLevel and a TemplateProcessing that wraps a single sequence in the given special tokens.
    private string Gpt2WithTemplate(params string[] single)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(SharedData.Path("tokenizers", "gpt2", "tokenizer.json")))!;
        var pieces = new System.Text.Json.Nodes.JsonArray(single.Select(p => (System.Text.Json.Nodes.JsonNode)(p == "A"
            ? new System.Text.Json.Nodes.JsonObject { ["Sequence"] = new System.Text.Json.Nodes.JsonObject { ["id"] = "A", ["type_id"] = 0 } }
            : new System.Text.Json.Nodes.JsonObject { ["SpecialToken"] = new System.Text.Json.Nodes.JsonObject { ["id"] = p, ["type_id"] = 0 } })).ToArray());
        json["post_processor"] = new System.Text.Json.Nodes.JsonObject
        {
            ["type"] = "Sequence",
            ["processors"] = new System.Text.Json.Nodes.JsonArray(
                new System.Text.Json.Nodes.JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
                new System.Text.Json.Nodes.JsonObject { ["type"] = "TemplateProcessing", ["single"] = pieces }),
        };
        var path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    [Fact]
    public void Post_processor_template_adds_bos_and_eos_when_the_config_does_not_say()
    {
        var plain = TokenizerFixtures.Get("gpt2").Encode("Hello world");
        var bos = BpeTokenizer.FromFile(Gpt2WithTemplate("<|endoftext|>", "A"));
        Assert.True(bos.AddBosToken);
        Assert.Equal(50256, bos.BosTokenId);
        Assert.Equal([50256, .. plain], bos.Encode("Hello world", addSpecialTokens: true));
        Assert.Equal(plain, bos.Encode("Hello world"));

        var eos = BpeTokenizer.FromFile(Gpt2WithTemplate("A", "<|endoftext|>"), Config("""{"eos_token":"<|endoftext|>"}"""));
        Assert.False(eos.AddBosToken);
        Assert.Equal([.. plain, 50256], eos.Encode("Hello world", addSpecialTokens: true));
    }

    [Fact]
    public void Config_flags_win_over_the_post_processor_and_a_conflicting_token_is_refused()
    {
        var off = BpeTokenizer.FromFile(Gpt2WithTemplate("<|endoftext|>", "A"), Config("""{"add_bos_token":false}"""));
        Assert.False(off.AddBosToken);
        Assert.Equal(off.Encode("Hi"), off.Encode("Hi", addSpecialTokens: true));

        var json = Gpt2WithTemplate("<|endoftext|>", "A");
        var e = Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromFile(json, Config("""{"bos_token":"!"}""")));
        Assert.Contains(json, e.Message);
        Assert.Contains("post_processor adds '<|endoftext|>'", e.Message);

        var two = Gpt2WithTemplate("<|endoftext|>", "<|endoftext|>", "A");
        Assert.Contains("only one BOS", Assert.Throws<TokenizerFormatException>(() => BpeTokenizer.FromFile(two)).Message);
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
