using EdgeLlm.Analysis.Store;
using EdgeLlm.Analysis.Tables;
using EdgeLlm.Calibration;
using EdgeLlm.Checkpoints;
using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Evaluation.Tasks;
using EdgeLlm.Inference;
using EdgeLlm.Profiling;
using EdgeLlm.Profiling.Phone;
using EdgeLlm.Pruning;
using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Analysis;

/// <summary>Each stage's real output goes through <see cref="StoreAdapters"/> into a store and is read back from its views.</summary>
public sealed class StoreAdapterTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("edgellm-adapters-").FullName;
    private static string Demo => Path.Combine(SharedData.RepoRoot, "data", "demo-model");
    private static string Pydoc => SharedData.Path("fixtures", "trained", "llama-pydoc");
    private static string Logs(string name) => Path.Combine(SharedData.RepoRoot, "tests", "EdgeLlm.Tests", "Profiling", "Logs", name);
    private ResultsStore Open() => ResultsStore.Open(Path.Combine(dir, "results.db"));

    [Fact]
    public void Evaluation_scores_and_every_sample_land_in_the_store()
    {
        using var lm = CausalLM.Load(Pydoc);
        var model = new EngineEvaluationModel(lm, Tokenizers.Load(Path.Combine(Pydoc, "tokenizer.json")));
        var runDir = new RunDirectory(Path.Combine(dir, "eval"));
        var task = new CommonsenseQaTask(SharedData.Path("datasets", "commonsenseqa", "dev_rand_split.jsonl"), maxNewTokens: 4);
        var result = new EvaluationRunner(model, runDir).Run(task, new RunOptions(Limit: 3));
        var records = runDir.ReadRecordsOf("csqa");

        using var store = Open();
        long id = store.AddRun(StoreAdapters.EvaluationRun(StoreAdapters.Identify(Pydoc), [(result.Summary, records)]));
        var score = store.TaskScores().Rows.Single();
        Assert.Equal(("llama-pydoc", "dense", "csqa", "score"), (score.GetString("model"), score.GetString("method"), score.GetString("task"), score.GetString("metric")));
        Assert.Equal(100.0 * records.Average(r => r.Score), score.GetDouble("score"), 9);
        Assert.Equal(3, score.GetLong("samples"));
        var samples = store.Samples(id);
        Assert.Equal(records.Select(r => (r.Index, r.Extracted, r.Reference, r.Score == 1)),
            samples.Rows.Select(r => ((int)r.GetLong("sample_index"), r.GetString("prediction"), r.GetString("reference"), r.GetBool("correct"))));
        using var checkpoint = Checkpoint.Open(Pydoc);
        Assert.Equal(checkpoint.ParameterCount, store.Runs().Rows[0].GetLong("parameters"));
    }

    [Fact]
    public void Benchmark_lands_as_throughput_memory_and_machine()
    {
        using var lm = CausalLM.Load(Demo);
        var limits = new MachineLimits(10, 10, 1, "assumed");
        var reports = new List<StageProgress>();
        var b = ThroughputBenchmark.Run(lm, new BenchmarkOptions { PromptTokens = 8, NewTokens = 4, Repeats = 2, Warmup = 1 }, limits, new InlineProgress<StageProgress>(reports.Add));
        Assert.Equal([new StageProgress("warm-up", 1, 1, "runs"), new StageProgress("runs", 1, 2, "runs"), new StageProgress("runs", 2, 2, "runs")], reports);
        using var store = Open();
        long id = store.AddRun(StoreAdapters.BenchmarkRun(StoreAdapters.Identify(Demo), b));
        var t = store.Throughput().Rows.Single();
        Assert.Equal(b.TpotMs, t.GetDouble("tpot_ms"));
        Assert.Equal((8L, 4L, 1L), (t.GetLong("prompt_tokens"), t.GetLong("new_tokens"), t.GetLong("batch_size")));
        Assert.Equal(lm.Checkpoint.ParameterCount, t.GetLong("parameters"));
        var memory = store.Memory().Rows.ToDictionary(r => r.GetString("kind"), r => r.GetLong("bytes"));
        Assert.Equal(new FileInfo(Path.Combine(Demo, "model.safetensors")).Length, memory["weights"], (double)new FileInfo(Path.Combine(Demo, "model.safetensors")).Length * 0.01);
        Assert.Equal(b.PeakRssBytes, memory["peak_rss"]);
        var machine = store.Query("SELECT m.* FROM machines m JOIN runs r ON r.machine_id = m.id").Rows.Single();
        // The benchmark measures the bandwidth again after its runs and keeps the higher figure.
        Assert.Equal(b.Limits.ReadBandwidthGBps, machine.GetDouble("read_bandwidth_gbps"));
        Assert.True(machine.GetDouble("read_bandwidth_gbps") >= 10.0);
        Assert.Equal(Environment.ProcessorCount, (int)machine.GetLong("cores"));

        // The older entry point writes the same rows through the same adapter.
        long other = store.AddRun(new RunRecord(new RunInfo("demo", "dense", 0)));
        store.AddBenchmark(other, b);
        Assert.Equal(2, store.Throughput().Filter(r => r.GetDouble("tpot_ms") == b.TpotMs).Rows.Count);
        Assert.NotEqual(id, other);
    }

    [Fact]
    public void Pruning_records_method_ratio_parameters_and_each_layer()
    {
        using var source = Checkpoint.Open(Demo);
        var c = source.Config;
        var plan = StructuredPruner.Plan(source, PruningMethod.L1, 0.5);
        var result = PrunedCheckpointWriter.Save(source, plan, Path.Combine(dir, "l1"));
        using var store = Open();
        long id = store.AddRun(StoreAdapters.PruningRun(source, result, plan));
        var run = store.Runs().Rows.Single();
        Assert.Equal(("demo-model", "l1", 0.5), (run.GetString("model"), run.GetString("method"), run.GetDouble("ratio")));
        Assert.Equal(result.ParametersAfter, run.GetLong("parameters"));
        Assert.Equal(source.ParameterCount, run.GetLong("dense_parameters"));

        // A Llama layer: two norms, q/k/v/o, gate/up/down; computed from the configs, not from the tensors.
        long Layer(int heads, int kv, int inter) => 2L * c.HiddenSize + (long)c.HiddenSize * c.HeadDim * (2 * heads + 2 * kv) + 3L * c.HiddenSize * inter;
        var layers = store.Query("SELECT name, parameters_before, parameters_after FROM pruned_layers WHERE run_id = @r ORDER BY name", [new("@r", id)]);
        Assert.Equal(c.NumLayers + 1, layers.Rows.Count);
        foreach (var row in layers.Rows.Where(r => r.GetString("name") != "other"))
        {
            Assert.Equal(Layer(c.NumHeads, c.NumKvHeads, c.IntermediateSize), row.GetLong("parameters_before"));
            Assert.Equal(Layer(result.KvHeads * c.NumHeads / c.NumKvHeads, result.KvHeads, result.IntermediateSize), row.GetLong("parameters_after"));
        }
        Assert.Equal(result.ParametersAfter, layers.Rows.Sum(r => r.GetLong("parameters_after")));

        // ShortGPT removes whole layers: they keep nothing, and the model name still comes from the source.
        using var lm = CausalLM.Load(Demo);
        var windows = CalibrationSampler.Sample(TextDocuments.ReadC4(SharedData.Path("datasets", "c4-format-pydoc", "c4-format-train.00000-of-00001.json.gz"), 40),
            Tokenizers.Load(Demo), 2, 64);
        var stats = Calibrator.Run(lm, windows);
        var shortPlan = StructuredPruner.Plan(source, PruningMethod.ShortGpt, 0.5, stats);
        var shortResult = PrunedCheckpointWriter.Save(source, shortPlan, Path.Combine(dir, "short"));
        long sid = store.AddRun(StoreAdapters.PruningRun(source, shortResult, shortPlan, "c4-format-train", 2));
        var removed = store.Query("SELECT name FROM pruned_layers WHERE run_id = @r AND parameters_after = 0", [new("@r", sid)]).Strings("name");
        Assert.Equal(shortPlan.RemovedLayers.Select(i => $"layer.{i}"), removed.Order());
        Assert.Equal(2, shortPlan.RemovedLayers.Length);
        Assert.Equal(2L, store.Runs().Filter(r => r.GetLong("run_id") == sid).Rows[0].GetLong("calibration_samples"));
        // A folder written by the pruner is identified as its source under the method.
        var identity = StoreAdapters.Identify(shortResult.Directory);
        Assert.Equal(("demo-model", "shortgpt", 0.5, shortResult.ParametersAfter), (identity.Model, identity.Method, identity.Ratio, identity.ParametersAfter));
    }

    [Fact]
    public void Perplexity_matches_transformers_after_the_round_trip()
    {
        using var lm = CausalLM.Load(Demo);
        using var expected = new Expected(Path.Combine(Demo, "expected.safetensors"));
        var windows = expected.Ids("val_windows").Chunk(256).Take(4).ToList();
        var result = Perplexity.Evaluate(lm, windows);
        using var store = Open();
        store.AddRun(new RunRecord(StoreAdapters.Identify(Demo)) { Perplexities = [StoreAdapters.Perplexity("pydoc-validation", result)] });
        var row = store.Perplexities().Rows.Single();
        double reference = Math.Exp(expected.Floats("val_window_nll").Take(4).Average(v => (double)v));
        Assert.InRange(row.GetDouble("perplexity") / reference, 0.999, 1.001);
        Assert.Equal(4 * 256L, row.GetLong("tokens"));
        Assert.Equal("pydoc-validation", row.GetString("dataset"));
        Assert.Equal("c4-validation.00000-of-00008", StoreAdapters.DatasetName("/data/c4-validation.00000-of-00008.json.gz"));
    }

    [Fact]
    public void Phone_logs_become_one_run_per_model_and_run_id()
    {
        var now = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var records = new[] { "mlc-chat-cli-stats.txt", "harness.csv", "mlc-usage.jsonl" }
            .SelectMany(f => PhoneLogImporter.Import(Logs(f), "phi-2-l1-30", "pixel-8", $"run-{f}", now)).ToList();
        using var store = Open();
        foreach (var run in StoreAdapters.PhoneRuns(records, "l1", 0.3)) store.AddOrReplaceRun(run);
        // harness.csv names its own runs (r1, r2) and model; the others take the run id given.
        Assert.Equal(["phone:r1", "phone:r2", "phone:run-mlc-chat-cli-stats.txt", "phone:run-mlc-usage.jsonl"], store.Runs().Strings("run_key").Order());
        var phone = store.Phone();
        Assert.Equal(5, phone.Rows.Count);
        var cli = phone.Filter(r => r.GetString("log_file").Contains("mlc-chat-cli-stats.txt"));
        // Stats text gives only rates: TPOT is 1000 / decode tok/s (the all-"N/A" line measured nothing).
        Assert.Equal(new[] { 1000 / 8.7, 1000 / 8.4 }.Order(), cli.Doubles("tpot_ms").Order());
        // Usage JSON with counts: (100 prefill tokens / 50 + 50 decode tokens / 10) s over 51 tokens.
        var usage = phone.Filter(r => r.GetString("log_file").Contains("mlc-usage")).Rows.Single();
        Assert.Equal(7000.0 / 51, usage.GetDouble("tpot_ms"), 9);
        Assert.Equal((100L, 51L), (usage.GetLong("prompt_tokens"), usage.GetLong("new_tokens")));
        Assert.Equal(95.25, phone.Filter(r => r.GetString("log_file").EndsWith("harness.csv:3")).Rows.Single().GetDouble("tpot_ms"));
        Assert.All(phone.Rows, r => Assert.Equal(("l1", 0.3), (r.GetString("method"), r.GetDouble("ratio"))));

        // Importing the same run again replaces it rather than doubling it.
        foreach (var run in StoreAdapters.PhoneRuns(records, "l1", 0.3)) store.AddOrReplaceRun(run);
        Assert.Equal(5, store.Phone().Rows.Count);
        Assert.Equal(4, store.Runs().Rows.Count);
    }

    [Fact]
    public void Memory_prediction_of_phi2_is_stored_part_by_part()
    {
        var config = ModelConfig.Parse(ModelPresets.Config("phi-2"), "phi-2");
        var prediction = MemoryModel.Predict(config, new MemoryScenario { Context = 4096, Runtime = RuntimeProfile.Resolve("mlc-llm-android") });
        var fit = MemoryModel.Fit(prediction, DeviceProfile.Resolve("phone-12gb"));
        using var store = Open();
        store.AddRun(StoreAdapters.MemoryRun(StoreAdapters.Identify("phi-2"), prediction, fit));
        var m = store.Memory().Rows.ToDictionary(r => r.GetString("kind"), r => r.GetLong("bytes"));
        Assert.All(store.Memory().Rows, r => Assert.True(r.GetBool("predicted")));
        Assert.Equal(2_779_683_840L * 2, m["weights"]); // Phi-2's published parameter count, FP16
        Assert.Equal(2L * 32 * 32 * 80 * 4096 * 2, m["kv_cache"]); // K and V, 32 layers × 32 heads × 80 dims, FP16 on MLC
        Assert.Equal(m["weights"] + m["kv_cache"] + m["activations"] + m["workspace"] + m["overhead"], m["total"]);
        var run = store.Runs().Rows.Single();
        Assert.Equal(("phi-2", 2_779_683_840L), (run.GetString("model"), run.GetLong("parameters")));
        Assert.Contains("phone-12gb", run.GetString("notes"));
    }

    public void Dispose() { try { Directory.Delete(dir, true); } catch (IOException) { } }

}
