using EdgeLlm.Analysis.Store;
using EdgeLlm.Analysis.Tables;

namespace EdgeLlm.Tests.Analysis;

public sealed class ResultsStoreTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("edgellm-store-").FullName;
    private string Db => Path.Combine(dir, "results.db");

    private static RunRecord Run(string method, double ratio, int samples = 3) => new(new RunInfo("phi-2", method, ratio) { ParametersBefore = 2_700_000_000 })
    {
        Scores = [new TaskScore("gsm8k", "accuracy", 0.5 - ratio, samples), new TaskScore("bbh", "accuracy", 0.4, samples)],
        Samples = Enumerable.Range(0, samples).Select(i => new StoredSample("gsm8k", i, $"q{i}", "4", i % 2 == 0 ? "4" : "5", i % 2 == 0)).ToList(),
        Throughput = [new ThroughputRecord(128, 64, 1, 40 + ratio, 25, 300, 1 << 30)],
    };

    [Fact]
    public void Schema_is_versioned_and_sqlite_finds_the_file_sound()
    {
        using var store = ResultsStore.Open(Db);
        Assert.Equal(1, store.SchemaVersion);
        long id = store.AddRun(Run("wanda", 0.2));
        Assert.Equal("ok", store.IntegrityCheck());
        var scores = store.TaskScores();
        Assert.Equal(2, scores.Rows.Count);
        Assert.Equal(0.3, scores.Filter(r => r.GetString("task") == "gsm8k").Rows[0].GetDouble("score"), 12);
        var samples = store.Samples(id);
        Assert.Equal([true, false, true], samples.Rows.Select(r => r.GetBool("correct")));
    }

    [Fact]
    public void Two_writers_at_once_lose_nothing()
    {
        using (ResultsStore.Open(Db)) { }
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            using var store = ResultsStore.Open(Db);
            for (int i = 0; i < 40; i++) store.AddRun(Run($"method{w}", i / 100.0, samples: 20));
        })).ToArray();
        Task.WaitAll(writers);
        using var check = ResultsStore.Open(Db);
        Assert.Equal("ok", check.IntegrityCheck());
        Assert.Equal(80, check.Runs().Rows.Count);
        Assert.Equal(160, check.TaskScores().Rows.Count);
        Assert.Equal(1600L, check.Query("SELECT count(*) AS n FROM samples").Rows[0].GetLong("n"));
    }

    [Fact]
    public void A_run_that_fails_midway_leaves_no_partial_run()
    {
        using var store = ResultsStore.Open(Db);
        store.AddRun(Run("dense", 0));
        // The duplicate sample is only detected after the run, its scores and earlier samples were inserted.
        var bad = Run("wanda", 0.5) with { Samples = [new StoredSample("gsm8k", 0, "a", "b", "b", true), new StoredSample("gsm8k", 0, "a", "b", "c", false)] };
        var e = Assert.Throws<InvalidOperationException>(() => store.AddRun(bad));
        Assert.Contains(Db, e.Message);
        Assert.Equal("ok", store.IntegrityCheck());
        Assert.Equal(1, store.Runs().Rows.Count);
        Assert.Equal(2, store.TaskScores().Rows.Count);
    }

    [Fact]
    public void Bad_files_are_named_in_the_error()
    {
        File.WriteAllText(Db, "this is not a database, just text that is long enough to have a header........................................");
        var e = Assert.Throws<InvalidDataException>(() => ResultsStore.Open(Db));
        Assert.Contains(Db, e.Message);

        var newer = Path.Combine(dir, "newer.db");
        using (var store = ResultsStore.Open(newer)) store.Query("PRAGMA user_version = 99");
        var e2 = Assert.Throws<InvalidDataException>(() => ResultsStore.Open(newer));
        Assert.Contains("schema version 99", e2.Message);
        Assert.Contains(newer, e2.Message);
    }

    [Fact]
    public void Submission_csv_has_one_row_with_task_columns_and_the_mean()
    {
        using var store = ResultsStore.Open(Db);
        long id = store.AddRun(Run("wanda", 0.25));
        var result = Submission.Write(store, id, Path.Combine(dir, "submission"));
        var lines = File.ReadAllLines(result.ResultsCsv);
        Assert.Equal("model,method,ratio,parameters,bbh,gsm8k,average,tpot_ms,throughput_tokens_per_s,memory_gb", lines[0]);
        var cells = lines[1].Split(',');
        Assert.Equal("phi-2", cells[0]);
        Assert.Equal((0.4 + 0.25) / 2, double.Parse(cells[6], System.Globalization.CultureInfo.InvariantCulture), 12);
        Assert.Equal("40.25", cells[7]);
    }

    [Fact]
    public void Submission_leaves_the_average_empty_when_truthfulqa_mixes_scales()
    {
        using var store = ResultsStore.Open(Db);
        var run = Run("wanda", 0.25);
        long id = store.AddRun(run with { Scores = [.. run.Scores, new TaskScore("truthfulqa", "bleu_acc", 0.28, 3)] });
        var lines = File.ReadAllLines(Submission.Write(store, id, Path.Combine(dir, "submission")).ResultsCsv);
        Assert.Equal("model,method,ratio,parameters,bbh,gsm8k,truthfulqa,average,tpot_ms,throughput_tokens_per_s,memory_gb", lines[0]);
        Assert.Equal("", lines[1].Split(',')[7]);
    }

    public void Dispose() { try { Directory.Delete(dir, true); } catch (IOException) { } }
}
