using System.Text.Json;
using EdgeLlm.Inference;
using EdgeLlm.Profiling;
using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Profiling;

/// <summary>bench --kit-2024's arithmetic on the CPU with the trained fixture and a few repeats: the kit's input, its throughput and memory figures.</summary>
public class KitThroughputTests
{
    private static readonly string ModelDir = SharedData.Path("fixtures", "trained", "llama-pydoc");
    private const string Text = "def mean(xs):\n    \"\"\"Return the arithmetic mean of a list of numbers.\"\"\"\n    return sum(xs) / len(xs)\n";

    [Fact]
    public void TheInputIsTheTextWithBosCutOrPaddedOnTheRightWithEos()
    {
        var tokenizer = Tokenizers.Load(ModelDir);
        var encoded = tokenizer.Encode(Text, addSpecialTokens: true);
        Assert.True(encoded.Length is > 10 and < 60);
        var (padded, real) = KitThroughput.Input(tokenizer, Text, 60);
        Assert.Equal(encoded.Length, real);
        Assert.Equal(encoded, padded[..real]);
        Assert.All(padded[real..], id => Assert.Equal(tokenizer.EosTokenId, id));
        var (cut, kept) = KitThroughput.Input(tokenizer, Text, 7);
        Assert.Equal(7, kept);
        Assert.Equal(encoded[..7], cut);
    }

    [Fact]
    public void FiguresFollowTheKitsDefinitions()
    {
        using var model = CausalLM.Load(ModelDir);
        var tokenizer = Tokenizers.Load(ModelDir);
        var r = KitThroughput.Measure(model, tokenizer, Text, new KitThroughputOptions { Repeats = 3, InputTokens = 64, NewTokens = 4 });
        Assert.Equal(3, r.ForwardSeconds.Count);
        Assert.Equal(64, r.InputTokens);
        // throughput = batch (1) / mean time; memory in the kit's "MB" = bytes / 1024².
        Assert.Equal(3 / r.ForwardSeconds.Sum(), r.ForwardsPerSecond, 9);
        Assert.Equal(r.ForwardSeconds.Order().ElementAt(1), r.MedianForwardSeconds);
        Assert.Equal(r.PeakMemoryBytes / 1048576.0, r.PeakMemoryMiB, 9);
        // The fixture is float16: the kit's float32 load doubles its weight bytes.
        Assert.Equal(2 * model.Checkpoint.WeightBytes, r.KitFloat32WeightBytes);
        Assert.True(r.PeakMemoryBytes > model.Checkpoint.WeightBytes / 2);
        Assert.Equal(4, r.TpotNewTokens);
        Assert.True(r.TpotMs > 0 && r.DecodeMsPerToken > 0);
        Assert.Contains(r.KitScriptNotes, n => n.Contains("before torch.cuda.synchronize()"));
        var e = Assert.Throws<ArgumentException>(() => KitThroughput.Measure(model, tokenizer, Text, new KitThroughputOptions { Repeats = 1 }));
        Assert.Contains("context is 1024", e.Message); // the kit's 2,000 tokens do not fit this fixture
    }

    [Fact]
    public void TheCliPrintsBothFiguresAsJson()
    {
        var textFile = Path.GetTempFileName();
        try
        {
            File.WriteAllText(textFile, Text);
            var run = CliRunner.Run("bench", ModelDir, "--kit-2024", "--text", textFile, "--repeats", "2", "--input-tokens", "32", "--new-tokens", "2", "--json");
            Assert.True(run.ExitCode == 0, run.Stderr);
            var json = JsonDocument.Parse(run.Stdout).RootElement;
            Assert.Equal(2, json.GetProperty("repeats").GetInt32());
            Assert.Equal(32, json.GetProperty("input_tokens").GetInt32());
            Assert.Equal(textFile, json.GetProperty("text_file").GetString());
            var seconds = json.GetProperty("forward_seconds").EnumerateArray().Select(s => s.GetDouble()).ToList();
            Assert.Equal(2 / seconds.Sum(), json.GetProperty("forwards_per_second").GetDouble(), 9);
            Assert.True(json.GetProperty("peak_memory_bytes").GetInt64() > 0);
            Assert.Contains("max_memory_allocated", json.GetProperty("kit_memory_definition").GetString());
        }
        finally { File.Delete(textFile); }
    }
}
