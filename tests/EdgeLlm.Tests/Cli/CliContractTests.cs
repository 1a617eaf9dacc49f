using System.Text.Json;
using EdgeLlm.Inference;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Cli;

/// <summary>The --json contracts other tools rely on, checked against the library and the shared references.</summary>
public class CliContractTests : TempDirectoryTest
{

    [Fact]
    public void InspectReportsTheTrainedCheckpoint()
    {
        var r = CliRunner.Run("inspect", SharedData.Path("fixtures", "trained", "llama-pydoc"), "--json");
        Assert.Equal(0, r.ExitCode);
        var j = r.Json;
        Assert.Equal("LlamaForCausalLM", j.GetProperty("architecture").GetString());
        Assert.Equal(10_096_896, j.GetProperty("parameters").GetInt64()); // the index's metadata.total_parameters
        Assert.Equal(8, j.GetProperty("layers").GetInt32());
        Assert.Equal(256, j.GetProperty("hidden_size").GetInt32());
        Assert.Equal("float16", j.GetProperty("dtype").GetString());
        Assert.Equal(20_193_792, j.GetProperty("weight_bytes").GetInt64()); // metadata.total_size
    }

    [Fact]
    public void BenchPairsEveryRunWithItsOwnBandwidthAndKeepsProbesOutOfPeakRss()
    {
        var model = EdgeLlm.Checkpoints.DemoModel.Shipped()!;
        var r = CliRunner.Run("bench", model, "--prompt-tokens", "8", "--new-tokens", "4", "--repeats", "3", "--json");
        Assert.Equal(0, r.ExitCode);
        var j = r.Json;
        var runBandwidth = j.GetProperty("run_bandwidth_g_bps").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var samples = j.GetProperty("limits").GetProperty("read_bandwidth_samples_g_bps").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(3, runBandwidth.Length);
        Assert.Equal(1 + 4, samples.Length); // the limits' own measurement, then one probe before the first run and one after each
        for (int i = 0; i < 3; i++) Assert.Equal((samples[i + 1] + samples[i + 2]) / 2, runBandwidth[i], 9);
        Assert.Equal(samples.Max(), j.GetProperty("limits").GetProperty("read_bandwidth_g_bps").GetDouble());
        double weightBytes = j.GetProperty("weight_bytes").GetDouble(), step = j.GetProperty("decode_ms_per_step").GetDouble();
        Assert.Equal(step / (weightBytes / (samples.Max() * 1e9) * 1000), j.GetProperty("tpot_over_floor_at_best_bandwidth").GetDouble(), 6);
        // The probes sum 1 GiB and 512 MiB buffers; a demo model's run needs far less, so a peak above 512 MiB means a probe leaked into it.
        Assert.InRange(j.GetProperty("peak_rss_bytes").GetInt64(), 1, 512L << 20);
    }

    [Fact]
    public void ScoreMatchesTransformersLogLikelihoods()
    {
        var folder = SharedData.Path("fixtures", "hf-tiny", "llama-float32");
        using var expected = new Expected(Path.Combine(folder, "expected.safetensors"));
        var ids = expected.Ids("ids_len33");
        var r = CliRunner.Run("score", folder, "--ids", string.Join(",", ids), "--json");
        Assert.Equal(0, r.ExitCode);
        var got = r.Json.GetProperty("logprobs").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.True(Expected.MaxAbsDiff(expected.Floats("loglik_len33"), got) < 1e-3f);
    }

    [Fact]
    public void GenerateWithIdsReproducesTransformersGreedyTokens()
    {
        var folder = SharedData.Path("fixtures", "hf-tiny", "qwen2-float32");
        using var expected = new Expected(Path.Combine(folder, "expected.safetensors"));
        var want = expected.Ids("greedy_out");
        var r = CliRunner.Run("generate", folder, "--ids", string.Join(",", expected.Ids("greedy_prompt")),
            "--max-new-tokens", want.Length.ToString(), "--ignore-eos", "--json");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(want, r.Json.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.True(r.Json.GetProperty("tpot_ms").GetDouble() > 0);
    }

    [Fact]
    public void GenerateFromTextStopsAtAStopString()
    {
        var folder = SharedData.Path("fixtures", "trained", "llama-pydoc");
        var r = CliRunner.Run("generate", folder, "--prompt", "The :mod:`os` module", "--max-new-tokens", "40",
            "--stop", "\n", "--json");
        Assert.Equal(0, r.ExitCode);
        var text = r.Json.GetProperty("text").GetString()!;
        Assert.DoesNotContain("\n", text);
        var reason = r.Json.GetProperty("finish_reason").GetString();
        Assert.Contains(reason, new[] { "stop_string", "length", "stop_token" });
    }

    [Fact]
    public void TokenizeMatchesReferenceEncodings()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(SharedData.Path("tokenizers", "reference-encodings.json")));
        var texts = doc.RootElement.GetProperty("texts").EnumerateArray().Take(40).Select(t => t.GetString()!).ToArray();
        var file = Path.Combine(Temp, "texts.json");
        File.WriteAllText(file, JsonSerializer.Serialize(texts));
        var r = CliRunner.Run("tokenize", SharedData.Path("tokenizers", "gpt2"), "--texts", file, "--json");
        Assert.Equal(0, r.ExitCode);
        var want = doc.RootElement.GetProperty("tokenizers").GetProperty("gpt2").GetProperty("ids").EnumerateArray().Take(40)
            .Select(a => a.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
        var got = r.Json.GetProperty("ids").EnumerateArray().Select(a => a.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
        Assert.Equal(want, got);
    }

    [Fact]
    public void InitRandomWritesAModelWithThePresetShapes()
    {
        var outDir = Path.Combine(Temp, "phi");
        var r = CliRunner.Run("init-random", "--like", "phi-2", "--layers", "1", "--dtype", "bf16", "--out", outDir, "--json");
        Assert.Equal(0, r.ExitCode);
        using var model = CausalLM.Load(outDir);
        Assert.Equal(2560, model.Config.HiddenSize);
        Assert.Equal(1, model.Config.NumLayers);
        // Phi-2 per layer: 4·2560² + 4·2560 (attention) + 2·2560·10240 + 10240 + 2560 (MLP) + 2·2560 (LayerNorm);
        // plus embedding 51200·2560, head 51200·2560 + 51200, final LayerNorm 2·2560.
        long perLayer = 4L * 2560 * 2560 + 4 * 2560 + 2L * 2560 * 10240 + 10240 + 2560 + 2 * 2560;
        long expected = perLayer + 2L * 51200 * 2560 + 51200 + 2 * 2560;
        Assert.Equal(expected, r.Json.GetProperty("parameter_count").GetInt64());
    }

    [Fact]
    public void BadInputIsOneClearLineAndExitCodeOne()
    {
        var r = CliRunner.Run("inspect", Path.Combine(Temp, "nope"), "--json");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("edgellm: ", r.Stderr);
        Assert.Contains("nope", r.Stderr);
        Assert.Contains("does not exist", r.Stderr);
    }

    [Fact]
    public void QuickstartRunsTheWholeFlowOnTheDemoModel()
    {
        var psiHome = Path.Combine(Temp, "home");
        Environment.SetEnvironmentVariable("EDGELLM_HOME", psiHome);
        try
        {
            var r = CliRunner.Run("quickstart", "--max-new-tokens", "8", "--json");
            Assert.Equal(0, r.ExitCode);
            var j = r.Json;
            Assert.Equal(8, j.GetProperty("generated_ids").GetArrayLength());
            Assert.True(j.GetProperty("peak_rss_bytes").GetInt64() > j.GetProperty("weight_bytes").GetInt64());
            var shipped = EdgeLlm.Checkpoints.DemoModel.Shipped()!;
            var want = EdgeLlm.Tokenization.Tokenizers.Load(shipped).Encode(j.GetProperty("prompt").GetString()!, addSpecialTokens: true);
            Assert.Equal(want, j.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
            Assert.False(string.IsNullOrEmpty(j.GetProperty("generated_text").GetString()));
        }
        finally { Environment.SetEnvironmentVariable("EDGELLM_HOME", null); }
    }
}
