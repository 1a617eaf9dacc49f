using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Tokenization;

public sealed class TokenizerLoadingErrorTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("edgellm-tok-errors-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private const string MinimalModel =
        """{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}""";

    private string TokenizerJson(string preTokenizer = """{"type":"ByteLevel","use_regex":true}""",
        string normalizer = "null", string model = MinimalModel) =>
        Write("tokenizer.json", $$"""{"normalizer":{{normalizer}},"pre_tokenizer":{{preTokenizer}},"decoder":{"type":"ByteLevel"},"model":{{model}}}""");

    [Fact]
    public void Missing_folder_or_file_names_the_path()
    {
        var missing = Path.Combine(dir, "nope");
        var e = Assert.Throws<FileNotFoundException>(() => Tokenizers.Load(missing));
        Assert.Contains(missing, e.Message);
        var empty = Assert.Throws<FileNotFoundException>(() => Tokenizers.Load(dir));
        Assert.Contains("tokenizer.json", empty.Message);
    }

    [Fact]
    public void Malformed_json_names_file_and_line()
    {
        var path = Write("tokenizer.json", "{\n  \"model\": {\n    \"vocab\": {,}\n  }\n}");
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizers.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.Equal(3, e.LineNumber);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Bad_base64_line_names_file_and_line()
    {
        var path = Write("qwen.tiktoken", "YQ== 0\nYg== 1\n!!notbase64!! 2\n");
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizers.Load(dir));
        Assert.Equal(path, e.FilePath);
        Assert.Equal(3, e.LineNumber);
        Assert.Contains("base64", e.Message);
    }

    [Fact]
    public void Tiktoken_line_without_rank_is_rejected()
    {
        Write("qwen.tiktoken", "YQ== 0\nYg==\n");
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizers.Load(dir));
        Assert.Equal(2, e.LineNumber);
    }

    [Theory]
    [InlineData("""{"type":"WordPiece","vocab":{"a":0}}""", "WordPiece")]
    [InlineData("""{"type":"Unigram","vocab":[["a",0.0]]}""", "Unigram")]
    public void Unsupported_model_type_is_named(string model, string name)
    {
        var path = TokenizerJson(model: model);
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizers.Load(path));
        Assert.Contains(name, e.Message);
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void Unsupported_pre_tokenizer_is_named()
    {
        var path = TokenizerJson(preTokenizer: """{"type":"Metaspace","replacement":"▁"}""");
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizers.Load(path));
        Assert.Contains("Metaspace", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Unsupported_normalizer_is_named_even_inside_a_sequence()
    {
        var path = TokenizerJson(normalizer: """{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Lowercase"}]}""");
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizers.Load(path));
        Assert.Contains("Lowercase", e.Message);
    }

    [Fact]
    public void Merge_with_unknown_token_is_rejected()
    {
        var path = TokenizerJson(model: """{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"]}""");
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizers.Load(path));
        Assert.Contains("merge #0", e.Message);
    }

    [Fact]
    public void Minimal_tokenizer_merges_in_both_merge_forms()
    {
        foreach (var merges in new[] { """["a b"]""", """[["a","b"]]""" })
        {
            var path = TokenizerJson(model: $$"""{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":{{merges}}}""");
            var tok = Tokenizers.Load(path);
            Assert.Equal([2, 0], tok.Encode("aba"));
            Assert.Equal("aba", tok.Decode([2, 0]));
        }
    }

    [Fact]
    public void Ignore_merges_with_merges_that_are_not_the_vocabularys_own_is_refused()
    {
        // "ab" (id 2) is made by the second merge, after "bc" (id 4): merge order and id order disagree.
        var path = TokenizerJson(model: """{"type":"BPE","ignore_merges":true,"vocab":{"a":0,"b":1,"ab":2,"c":3,"bc":4},"merges":["b c","a b"]}""");
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizers.Load(path));
        Assert.Contains("ignore_merges", e.Message);
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void Ignore_merges_vocabulary_in_rank_order_emits_whole_tokens()
    {
        // Rank order: a pre-token the vocabulary holds is one token; others merge the pair of lowest rank first.
        var path = TokenizerJson(model: """{"type":"BPE","ignore_merges":true,"vocab":{"a":0,"b":1,"c":2,"ab":3,"abc":4},"merges":["a b","ab c"]}""");
        var tok = Tokenizers.Load(path);
        Assert.Equal([4], tok.Encode("abc"));
        Assert.Equal([3, 3], tok.Encode("abab"));
        Assert.Equal("ababc", tok.Decode([3, 4]));
    }

    [Fact]
    public void Empty_vocabulary_refused_by_the_library_is_reported_with_the_file()
    {
        var path = TokenizerJson(model: """{"type":"BPE","vocab":{},"merges":[]}""");
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizers.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    // Worked by hand from Hugging Face's added-token rules: lstrip swallows the space before "<m>", rstrip the one after.
    [InlineData(false, false, new[] { 0, 2, 5, 4 })] // "a" "Ġ" "<m>" "Ġb"
    [InlineData(true, false, new[] { 0, 5, 4 })]     // "a" "<m>" "Ġb"
    [InlineData(false, true, new[] { 0, 2, 5, 1 })]  // "a" "Ġ" "<m>" "b"
    public void Added_token_lstrip_and_rstrip_swallow_adjacent_whitespace(bool lstrip, bool rstrip, int[] expected)
    {
        var path = Write("tokenizer.json", $$$"""
            {"added_tokens":[{"id":5,"content":"<m>","special":true,"lstrip":{{{(lstrip ? "true" : "false")}}},"rstrip":{{{(rstrip ? "true" : "false")}}}}],
             "normalizer":null,"pre_tokenizer":{"type":"ByteLevel","use_regex":true},"decoder":{"type":"ByteLevel"},
             "model":{"type":"BPE","vocab":{"a":0,"b":1,"Ġ":2,"<":3,"Ġb":4},"merges":["Ġ b"]}}
            """);
        var tok = Tokenizers.Load(path);
        Assert.Equal(expected, tok.Encode("a <m> b"));
        Assert.Equal(expected, tok.Tokenizer.EncodeToIds("a <m> b"));
    }

    [Fact]
    public void Single_word_added_token_is_not_matched_inside_a_word()
    {
        var path = Write("tokenizer.json", """
            {"added_tokens":[{"id":4,"content":"ab","special":false,"single_word":true}],
             "normalizer":null,"pre_tokenizer":{"type":"ByteLevel","use_regex":true},"decoder":{"type":"ByteLevel"},
             "model":{"type":"BPE","vocab":{"a":0,"b":1,"c":2,"Ġ":3},"merges":[]}}
            """);
        var tok = Tokenizers.Load(path);
        Assert.Equal([4, 3, 2, 0, 1], tok.Encode("ab cab"));
    }

    [Fact]
    public void Shared_gpt2_tokenizer_loads_through_the_factory_from_file_path()
    {
        var tok = Tokenizers.Load(SharedData.Path("tokenizers", "gpt2", "tokenizer.json"));
        Assert.Equal(ReferenceEncodings.IdsFor("gpt2")[0], tok.Encode(ReferenceEncodings.Texts[0]));
    }
}
