using System.Text;
using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Tasks;
using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>
/// Dataset and tokenizer inputs that used to give silently wrong results (issue 15): empty files scored 0.00,
/// Latin-1 bytes became U+FFFD, a bos_token missing from the vocabulary was dropped. Each is now an error
/// naming the file (and line).
/// </summary>
public class DatasetEncodingTests : TempDirectoryTest
{
    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(Temp, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void EmptyJsonLinesFileIsAnError()
    {
        var path = Write("test.jsonl", Encoding.UTF8.GetBytes("\n\n"));
        var e = Assert.Throws<DatasetFormatException>(() => new Gsm8kTask(path).LoadSamples());
        Assert.Equal($"{path}:2: the file holds no samples", e.Message);
        Assert.Throws<DatasetFormatException>(() => new CommonsenseQaTask(Write("empty.jsonl", [])).LoadSamples());
    }

    [Fact]
    public void HeaderOnlyOrEmptyCsvIsAnError()
    {
        var header = Write("TruthfulQA.csv", Encoding.UTF8.GetBytes("Type,Category,Question,Best Answer,Correct Answers,Incorrect Answers,Source\n"));
        Assert.Contains("holds no samples", Assert.Throws<DatasetFormatException>(() => new TruthfulQaTask(header).LoadSamples()).Message);
        var empty = Write("empty.csv", []);
        Assert.Contains("holds no rows", Assert.Throws<DatasetFormatException>(() => CsvFile.Read(empty).ToList()).Message);
    }

    [Fact]
    public void Latin1BytesInAJsonLinesLineNameTheLine()
    {
        var good = "{\"question\": \"2+2?\", \"answer\": \"#### 4\"}\n";
        var bad = Encoding.Latin1.GetBytes("{\"question\": \"caf\u00e9?\", \"answer\": \"#### 4\"}\n");
        var path = Write("test.jsonl", [.. Encoding.UTF8.GetBytes(good + good), .. bad, .. Encoding.UTF8.GetBytes(good)]);
        var e = Assert.Throws<DatasetFormatException>(() => new Gsm8kTask(path).LoadSamples());
        Assert.Equal(path, e.File);
        Assert.Equal(3, e.Line);
        Assert.Contains("invalid UTF-8 (byte 0xE9)", e.Message);
        // The same text as UTF-8 is read as written.
        var fine = Write("ok.jsonl", Encoding.UTF8.GetBytes("{\"question\": \"caf\u00e9?\", \"answer\": \"#### 4\"}\n"));
        Assert.Contains("caf\u00e9?", new Gsm8kTask(fine).LoadSamples()[0].Prompt);
    }

    [Fact]
    public void Latin1BytesInACsvOrJsonFileNameTheLine()
    {
        var csv = Write("TruthfulQA.csv", [.. Encoding.UTF8.GetBytes("Type,Question\nA,ok\n"), .. Encoding.Latin1.GetBytes("B,na\u00efve\n")]);
        var e = Assert.Throws<DatasetFormatException>(() => CsvFile.Read(csv).ToList());
        Assert.Equal(3, e.Line);
        Assert.Contains("invalid UTF-8 (byte 0xEF)", e.Message);
        var json = Write("task.json", [.. Encoding.UTF8.GetBytes("{\"examples\": [\n"), .. Encoding.Latin1.GetBytes("{\"input\": \"\u00e9\"}]}")]);
        Assert.Equal(2, Assert.Throws<DatasetFormatException>(() => DatasetFiles.JsonDocumentRoot(json)).Line);
    }

    private const string MinimalTokenizer =
        """{"normalizer":null,"pre_tokenizer":{"type":"ByteLevel","use_regex":true},"decoder":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}""";

    [Theory]
    [InlineData("""{"bos_token": "<s>", "add_bos_token": true}""", "add_bos_token is true but bos_token '<s>' is not in the vocabulary")]
    [InlineData("""{"eos_token": {"content": "</s>"}, "add_eos_token": true}""", "add_eos_token is true but eos_token '</s>' is not in the vocabulary")]
    public void SpecialTokenMissingFromTheVocabularyIsAnError(string config, string fragment)
    {
        Write("tokenizer.json", Encoding.UTF8.GetBytes(MinimalTokenizer));
        var configPath = Write("tokenizer_config.json", Encoding.UTF8.GetBytes(config));
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizers.Load(Temp));
        Assert.Equal(configPath, e.FilePath);
        Assert.Contains(fragment, e.Message);
        Assert.IsAssignableFrom<EdgeLlmException>(e);
        // Not asked to add it: loads as before.
        Write("tokenizer_config.json", Encoding.UTF8.GetBytes("""{"bos_token": "<s>", "add_bos_token": false}"""));
        Assert.Null(Tokenizers.Load(Temp).BosTokenId);
    }

    [Theory]
    [InlineData("""{"model": 5}""")]
    [InlineData("""[1, 2]""")]
    [InlineData("""{"model": {"type": "BPE", "vocab": [1, 2], "merges": []}}""")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}}""")]
    public void MalformedTokenizerJsonIsATokenizerFormatError(string content)
    {
        var path = Write("tokenizer.json", Encoding.UTF8.GetBytes(content));
        var e = Assert.Throws<TokenizerFormatException>(() => Tokenizers.Load(path));
        Assert.Contains(path, e.Message);
    }
}
