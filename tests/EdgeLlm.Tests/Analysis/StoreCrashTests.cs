using System.Diagnostics;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Analysis.Tables;

namespace EdgeLlm.Tests.Analysis;

/// <summary>
/// A writer process killed with SIGKILL in the middle of a transaction: the store must be sound afterwards and hold
/// only complete runs. The writer is a real child process (an F# script run by <c>dotnet fsi</c>, referencing the
/// EdgeLlm.dll beside the tests) that adds runs in a loop; the samples of each run are produced lazily, so the child can report, from inside the
/// transaction, that half of them are written (4 MB, more than SQLite's default 2 MB page cache, so uncommitted pages
/// spill into the WAL file) and then wait there to be killed.
/// </summary>
public sealed class StoreCrashTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("edgellm-crash-").FullName;

    private const int Tasks = 7, SamplesPerRun = 2000;

    [Fact]
    public void Killing_a_writer_mid_transaction_leaves_a_sound_store_with_complete_runs()
    {
        string db = Path.Combine(dir, "results.db"), progress = Path.Combine(dir, "progress.txt"), script = Path.Combine(dir, "writer.fsx");
        File.WriteAllText(script, WriterScript(db, progress));
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "fsi", script }) psi.ArgumentList.Add(a);
        using var writer = Process.Start(psi)!;
        var output = writer.StandardOutput.ReadToEndAsync();
        var errors = writer.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        // Runs 1 and 2 commit; run 3 reports from inside its transaction and then waits.
        while (!(File.Exists(progress) && File.ReadAllText(progress).Contains("inside 3")))
        {
            if (writer.HasExited) Assert.Fail($"the writer exited early ({writer.ExitCode}): {output.Result}{errors.Result}");
            if (clock.Elapsed > TimeSpan.FromMinutes(2)) { writer.Kill(entireProcessTree: true); Assert.Fail("the writer did not reach run 3 within 2 minutes"); }
            Thread.Sleep(20);
        }
        // SIGKILL on Unix: no finally blocks, no rollback by the process itself. `dotnet fsi` runs the script in a child
        // process, so the whole tree goes.
        writer.Kill(entireProcessTree: true);
        writer.WaitForExit();
        Assert.Equal(137, writer.ExitCode);

        using var store = ResultsStore.Open(db);
        Assert.Equal("ok", store.IntegrityCheck());
        Assert.Equal(["run-1", "run-2"], store.Runs().Strings("run_key"));
        foreach (var id in store.Runs().Rows.Select(r => r.GetLong("run_id")))
        {
            Assert.Equal(Tasks, store.TaskScores().Filter(r => r.GetLong("run_id") == id).Rows.Count);
            Assert.Equal(SamplesPerRun, store.Samples(id).Rows.Count);
        }
        foreach (var table in new[] { "task_scores", "samples" })
            Assert.Equal(0L, store.Query($"SELECT count(*) AS n FROM {table} WHERE run_id NOT IN (SELECT id FROM runs)").Rows[0].GetLong("n"));

        // The killed writer's lock is gone: the next writer adds the run it was writing.
        store.AddRun(new RunRecord(new RunInfo("crash", "wanda-sp", 0.5) { Key = "run-3" }));
        Assert.Equal(3, store.Runs().Rows.Count);
    }

    private static string WriterScript(string db, string progress) => $$"""
            #r @"{{Path.Combine(AppContext.BaseDirectory, "EdgeLlm.dll")}}"
            open System.Collections.Generic
            open EdgeLlm.Analysis.Store
            let store = ResultsStore.Open @"{{db}}"
            let progress = new System.IO.StreamWriter(@"{{progress}}", true, AutoFlush = true)
            let sample (s: int) = StoredSample("gsm8k", s, System.String('x', 4000), "4", "4", System.Nullable true)
            let samples (run: int) =
                let items = seq {
                    for s in 0 .. {{SamplesPerRun / 2 - 1}} -> sample s
                    progress.WriteLine(sprintf "inside %d" run)
                    if run = 3 then System.Threading.Thread.Sleep 600000
                    for s in {{SamplesPerRun / 2}} .. {{SamplesPerRun - 1}} -> sample s }
                { new IReadOnlyList<StoredSample> with
                      member _.Item with get (_: int) : StoredSample = failwith "read in order only"
                  interface IReadOnlyCollection<StoredSample> with
                      member _.Count = {{SamplesPerRun}}
                  interface IEnumerable<StoredSample> with
                      member _.GetEnumerator() = items.GetEnumerator()
                  interface System.Collections.IEnumerable with
                      member _.GetEnumerator() = (items :> System.Collections.IEnumerable).GetEnumerator() }
            for run in 1 .. 10 do
                let scores = [| for t in 1 .. {{Tasks}} -> TaskScore(sprintf "task%d" t, "score", float t, {{SamplesPerRun}}) |]
                let record = RunRecord(RunInfo("crash", "wanda-sp", 0.5, Key = sprintf "run-%d" run), Scores = (scores :> IReadOnlyList<_>), Samples = samples run)
                store.AddRun record |> ignore
                progress.WriteLine(sprintf "done %d" run)
            """;

    public void Dispose() { try { Directory.Delete(dir, true); } catch (IOException) { } }
}
