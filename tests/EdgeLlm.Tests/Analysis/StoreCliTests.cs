using EdgeLlm.Analysis.Store;
using EdgeLlm.Analysis.Tables;
using EdgeLlm.Profiling.Phone;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Analysis;

/// <summary>The commands' <c>--store FILE</c>: the edgellm process writes the run, the test reads it back.</summary>
public sealed class StoreCliTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("edgellm-store-cli-").FullName;
    private string Db => Path.Combine(dir, "results.db");
    private static string Demo => Path.Combine(SharedData.RepoRoot, "data", "demo-model");

    [Fact]
    public void Phone_import_keeps_its_json_lines_and_records_runs_in_the_store()
    {
        var log = Path.Combine(SharedData.RepoRoot, "tests", "EdgeLlm.Tests", "Profiling", "Logs", "mlc-chat-cli-stats.txt");
        var jsonl = Path.Combine(dir, "phone.jsonl");
        var r = CliRunner.Run("phone", "import", log, "--model", "phi-2-wanda", "--device", "pixel-8", "--run", "r1",
            "--jsonl", jsonl, "--store", Db, "--method", "wanda-sp", "--ratio", "0.2", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(2, PhoneMeasurementStore.Read(jsonl).Count);
        using var store = ResultsStore.Open(Db);
        var phone = store.Phone();
        Assert.Equal(2, phone.Rows.Count);
        Assert.All(phone.Rows, row => Assert.Equal(("phi-2-wanda", "wanda-sp", 0.2, "pixel-8"),
            (row.GetString("model"), row.GetString("method"), row.GetDouble("ratio"), row.GetString("device"))));
        Assert.Equal("phone:r1", store.Runs().Rows.Single().GetString("run_key"));

        var wrong = CliRunner.Run("phone", "import", log, "--model", "m", "--device", "d", "--store", Path.Combine(dir, "old.jsonl"));
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("--jsonl", wrong.Stderr + wrong.Stdout);
    }

    [Fact]
    public void Memory_and_perplexity_commands_record_their_runs()
    {
        var m = CliRunner.Run("memory", "llama-3-8b", "--context", "2048", "--store", Db, "--json");
        Assert.True(m.ExitCode == 0, m.Stderr);
        var predicted = m.Json.GetProperty("prediction");
        var validation = SharedData.Path("datasets", "c4-format-pydoc", "c4-format-validation.00000-of-00001.json.gz");
        var p = CliRunner.Run("perplexity", Demo, "--data", validation, "--docs", "40", "--seqlen", "128", "--windows", "2", "--quiet", "--store", Db, "--json");
        Assert.True(p.ExitCode == 0, p.Stderr);

        using var store = ResultsStore.Open(Db);
        var memory = store.Memory().Filter(r => r.GetString("model") == "llama-3-8b").Rows.ToDictionary(r => r.GetString("kind"), r => r.GetLong("bytes"));
        Assert.Equal(predicted.GetProperty("total_bytes").GetInt64(), memory["total"]);
        Assert.Equal(predicted.GetProperty("kv_cache_bytes").GetInt64(), memory["kv_cache"]);
        var ppl = store.Perplexities().Rows.Single();
        Assert.Equal(("demo-model", "dense", "c4-format-validation.00000-of-00001"), (ppl.GetString("model"), ppl.GetString("method"), ppl.GetString("dataset")));
        Assert.Equal(p.Json.GetProperty("perplexity").GetDouble(), ppl.GetDouble("perplexity"), 9);
        Assert.Equal(256L, ppl.GetLong("tokens"));
    }

    [Fact]
    public void Prune_then_eval_of_the_pruned_folder_line_up_under_the_source_model()
    {
        var pruned = Path.Combine(dir, "demo-l1");
        var p = CliRunner.Run("prune", Demo, "--method", "l1", "--ratio", "0.5", "--out", pruned, "--quiet", "--store", Db, "--json");
        Assert.True(p.ExitCode == 0, p.Stderr);
        string[] eval = ["eval", pruned, "--protocol", "kit-2024-base", "--tasks", "csqa", "--limit", "2", "--out", Path.Combine(dir, "run"),
            "--data", SharedData.Path("datasets"), "--store", Db, "--json"];
        var e = CliRunner.Run(eval);
        Assert.True(e.ExitCode == 0, e.Stderr);
        var again = CliRunner.Run(eval); // resumes: nothing new to score, and the store's run is replaced, not doubled
        Assert.True(again.ExitCode == 0, again.Stderr);

        using var store = ResultsStore.Open(Db);
        var runs = store.Runs();
        Assert.Equal(2, runs.Rows.Count);
        Assert.All(runs.Rows, r => Assert.Equal(("demo-model", "l1", 0.5, p.Json.GetProperty("parameters_after").GetInt64()),
            (r.GetString("model"), r.GetString("method"), r.GetDouble("ratio"), r.GetLong("parameters"))));
        var score = store.TaskScores().Rows.Single();
        Assert.Equal(e.Json.GetProperty("tasks").GetProperty("csqa").GetProperty("score").GetDouble(), score.GetDouble("score"), 9);
        Assert.Equal(2, store.Samples(score.GetLong("run_id")).Rows.Count);
        Assert.Equal(5L, store.Query("SELECT count(*) AS n FROM pruned_layers").Rows[0].GetLong("n")); // 4 layers + other
    }

    public void Dispose() { try { Directory.Delete(dir, true); } catch (IOException) { } }
}
