using System.IO.Compression;
using System.Text;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Checkpoints;
using EdgeLlm.Profiling.Phone;
using EdgeLlm.Tests.Support;
using Microsoft.Data.Sqlite;

namespace EdgeLlm.Tests.Cli;

/// <summary>
/// Issue 15's stack traces, each now one line on stderr (exit 1) naming the file: malformed tokenizer files,
/// corrupt HumanEval data, bad results stores (refused before the run starts), Phi's partial_rotary_factor,
/// invalid UTF-8 in a safetensors header, an infinite rate in a phone log.
/// </summary>
public class OneLineErrorTests : TempDirectoryTest
{
    private static readonly string Trained = SharedData.Path("fixtures", "trained", "llama-pydoc");

    private static void AssertOneLine(CliRunner.Result result, params string[] fragments)
    {
        Assert.Equal(1, result.ExitCode);
        var line = result.Stderr.Trim();
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("edgellm: ", line);
        foreach (var f in fragments) Assert.Contains(f, line);
    }

    private string Folder(string name)
    {
        var path = Path.Combine(Temp, name);
        Directory.CreateDirectory(path);
        return path;
    }

    [Theory]
    [InlineData("tokenizer.json", "{\"model\": {\"vocab\": {,}}}")]
    [InlineData("tokenizer_config.json", "{\"bos_token\": [")]
    [InlineData("tokenizer_config.json", "{\"add_bos_token\": \"yes\"}")]
    public void MalformedTokenizerFiles(string broken, string content)
    {
        var folder = Folder("tok");
        File.Copy(Path.Combine(Trained, "tokenizer.json"), Path.Combine(folder, "tokenizer.json"));
        File.Copy(Path.Combine(Trained, "tokenizer_config.json"), Path.Combine(folder, "tokenizer_config.json"));
        File.WriteAllText(Path.Combine(folder, broken), content);
        var texts = Path.Combine(Temp, "texts.json");
        File.WriteAllText(texts, "[\"hello\"]");
        AssertOneLine(CliRunner.Run("tokenize", folder, "--texts", texts), Path.Combine(folder, broken));
    }

    [Theory]
    [InlineData("not gzip")]
    [InlineData("truncated")]
    [InlineData("empty")]
    public void CorruptHumanEvalFile(string kind)
    {
        var folder = Folder(Path.Combine("data", "humaneval"));
        var file = Path.Combine(folder, "HumanEval.jsonl.gz");
        var good = File.ReadAllBytes(SharedData.Path("datasets", "humaneval", "HumanEval.jsonl.gz"));
        File.WriteAllBytes(file, kind switch
        {
            "not gzip" => Encoding.UTF8.GetBytes("{\"task_id\": \"x\"}\n"),
            "truncated" => good[..(good.Length / 2)],
            _ => Gzip([]),
        });
        var result = CliRunner.Run("eval", Trained, "--protocol", "kit-2024-base", "--tasks", "humaneval", "--data", Path.Combine(Temp, "data"), "--out", Path.Combine(Temp, "run"), "--limit", "1");
        // A gzip stream cut short ends early without an error of its own: the cut line is what is reported.
        AssertOneLine(result, file, kind switch { "empty" => "holds no samples", "truncated" => "not a JSON object", _ => "gzip" });
    }

    private static byte[] Gzip(byte[] content)
    {
        using var memory = new MemoryStream();
        using (var gz = new GZipStream(memory, CompressionLevel.Fastest)) gz.Write(content);
        return memory.ToArray();
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("truncated")]
    [InlineData("future schema")]
    public void BadResultsStoreIsRefusedBeforeTheRun(string kind)
    {
        var store = Path.Combine(Temp, "results.db");
        if (kind == "garbage") File.WriteAllBytes(store, Enumerable.Range(0, 8192).Select(i => (byte)(i * 7)).ToArray());
        else
        {
            using (var db = ResultsStore.Open(store)) { }
            if (kind == "truncated")
            {
                var bytes = File.ReadAllBytes(store);
                File.WriteAllBytes(store, bytes[..(bytes.Length / 3)]);
            }
            else
            {
                using var connection = new SqliteConnection($"Data Source={store};Pooling=False");
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA user_version = 999";
                command.ExecuteNonQuery();
            }
        }
        var run = Path.Combine(Temp, "run");
        var result = CliRunner.Run("eval", Trained, "--protocol", "kit-2024-base", "--tasks", "csqa", "--limit", "1", "--out", run, "--store", store,
            "--data", SharedData.Path("datasets"));
        AssertOneLine(result, store);
        Assert.False(File.Exists(Path.Combine(run, "csqa.jsonl"))); // refused before any sample ran
    }

    [Fact]
    public void PruneRefusesABadResultsStoreBeforeWriting()
    {
        var store = Path.Combine(Temp, "results.db");
        File.WriteAllBytes(store, Enumerable.Range(0, 8192).Select(i => (byte)(i * 7)).ToArray());
        var output = Path.Combine(Temp, "pruned");
        AssertOneLine(CliRunner.Run("prune", Trained, "--method", "l1", "--ratio", "0.2", "--out", output, "--store", store), store);
        Assert.False(Directory.Exists(output)); // refused before anything was pruned or written
    }

    [Theory]
    [InlineData("2.0")]
    [InlineData("-0.5")]
    [InlineData("1e5")]
    public void PhiPartialRotaryFactorOutOfRange(string value)
    {
        var folder = Folder("phi");
        var fixture = SharedData.Path("fixtures", "hf-tiny", "phi-float32");
        foreach (var f in Directory.GetFiles(fixture)) File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
        var config = Path.Combine(folder, "config.json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        node["partial_rotary_factor"] = System.Text.Json.Nodes.JsonValue.Create(double.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
        File.WriteAllText(config, node.ToJsonString());
        AssertOneLine(CliRunner.Run("inspect", folder), config, "partial_rotary_factor", "[0, 1]");
    }

    [Fact]
    public void InvalidUtf8InASafetensorsHeader()
    {
        var folder = Folder("utf8");
        File.Copy(SharedData.Path("fixtures", "hf-tiny", "llama-float32", "config.json"), Path.Combine(folder, "config.json"));
        var header = Encoding.UTF8.GetBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        int at = Array.IndexOf(header, (byte)'a');
        header[at] = 0xE9; // Latin-1 é: not UTF-8 on its own
        var bytes = new byte[8 + header.Length + 4];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)header.Length);
        header.CopyTo(bytes, 8);
        var file = Path.Combine(folder, "model.safetensors");
        File.WriteAllBytes(file, bytes);
        var e = Assert.Throws<CheckpointFormatException>(() => SafeTensorsFile.Open(file));
        Assert.Equal($"{file}: header is not valid UTF-8", e.Message);
        AssertOneLine(CliRunner.Run("inspect", folder), file, "not valid UTF-8");
    }

    [Theory]
    [InlineData("log.csv", "model,device,decode_tokens_per_s\nphi,phone,Infinity\n", 2)]
    [InlineData("log.csv", "model,device,prefill_tokens_per_s,decode_tokens_per_s\nphi,phone,12.5,-3\n", 2)]
    public void InfiniteOrNegativeRateInAPhoneLog(string name, string content, int line)
    {
        var file = Path.Combine(Temp, name);
        File.WriteAllText(file, content);
        var e = Assert.Throws<PhoneLogFormatException>(() => PhoneLogImporter.Import(file, "phi", "phone"));
        Assert.StartsWith($"{file}:{line}: ", e.Message);
        Assert.Contains("not a finite non-negative number", e.Message);
        Assert.IsAssignableFrom<EdgeLlmException>(e);
    }
}
