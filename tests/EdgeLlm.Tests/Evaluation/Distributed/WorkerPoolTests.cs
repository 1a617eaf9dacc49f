using System.Diagnostics;
using EdgeLlm.Evaluation.Distributed;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Evaluation.Distributed;

/// <summary>eval --workers: worker processes of the real CLI on the demo model, against a single-process run.</summary>
public class WorkerPoolTests : TempDirectoryTest
{
    private static readonly string Model = Path.Combine(SharedData.RepoRoot, "data", "demo-model");
    private static readonly string[] Common = ["--protocol", "kit-2024-base", "--tasks", "csqa,bbh", "--limit", "12", "--batch-size", "2", "--data", SharedData.Path("datasets")];

    private CliRunner.Result Single()
    {
        var single = CliRunner.Run(["eval", Model, .. Common, "--out", Path.Combine(Temp, "single"), "--json"]);
        Assert.True(single.ExitCode == 0, single.Stderr);
        return single;
    }

    [Fact]
    public void TwoWorkersScoreLikeOneProcess()
    {
        var want = Single().Json.GetProperty("tasks");
        var runDir = Path.Combine(Temp, "workers");
        var pooled = CliRunner.Run(["eval", Model, .. Common, "--out", runDir, "--workers", "2", "--json"]);
        Assert.True(pooled.ExitCode == 0, pooled.Stderr);
        SameScores(want, pooled.Json.GetProperty("tasks"));
        foreach (var task in Tasks)
        {
            // Two workers, each appending to its own file; together every sample once.
            var files = Directory.GetFiles(runDir, task + ".worker-*.jsonl").Select(Path.GetFileName).Order().ToList();
            Assert.Equal([$"{task}.worker-1.jsonl", $"{task}.worker-2.jsonl"], files);
            Assert.Equal(Outputs(Path.Combine(Temp, "single"), task + ".jsonl"), Outputs(runDir, task + ".worker-*.jsonl"));
        }
        Assert.True(want.GetProperty("bbh").GetProperty("score").GetDouble() > 0);
        Assert.Contains("bbh: 12/12", pooled.Stderr); // progress merged over the workers
    }

    [Fact]
    public void TwoWorkersInferThenOneScoringCallScoresLikeOneProcess()
    {
        var want = Single().Json.GetProperty("tasks");
        var runDir = Path.Combine(Temp, "inferred");
        var pooled = CliRunner.Run(["eval", Model, .. Common, "--out", runDir, "--workers", "2", "--mode", "infer", "--json"]);
        Assert.True(pooled.ExitCode == 0, pooled.Stderr);
        Assert.Contains("--mode eval", pooled.Json.GetProperty("then").GetString());
        Assert.Empty(Directory.GetFiles(runDir, "csqa*.jsonl")); // nothing scored
        Assert.False(File.Exists(Path.Combine(runDir, "summary.json")));
        var predictions = Directory.GetFiles(Path.Combine(runDir, "predictions"), "csqa.worker-*.jsonl").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["csqa.worker-1.jsonl", "csqa.worker-2.jsonl"], predictions);

        var scored = CliRunner.Run(["eval", Model, .. Common, "--out", runDir, "--mode", "eval", "--json"]);
        Assert.True(scored.ExitCode == 0, scored.Stderr);
        SameScores(want, scored.Json.GetProperty("tasks"));
        foreach (var task in Tasks)
            Assert.Equal(Outputs(Path.Combine(Temp, "single"), task + ".jsonl"), Outputs(runDir, task + ".jsonl"));
    }

    [Fact]
    public void AKilledWorkerIsRestartedAndTheRunCompletes()
    {
        var want = Single().Json.GetProperty("tasks");
        var runDir = Path.Combine(Temp, "killed");
        var plan = new RunPlan(Model, ["csqa", "bbh"], SharedData.Path("datasets"), 12, 1, MaxBatch: 2, Protocol: "kit-2024-base");
        var notes = new List<string>();
        int killed = 0;
        var progress = new Immediate(p =>
        {
            lock (notes) if (p.Note is { } note) notes.Add(note);
            // Kill worker 1 at its first finished batch: mid-shard, with records already appended.
            if (p.Note is null && p.Worker == 1 && Interlocked.Exchange(ref killed, 1) == 0)
                Process.GetProcessById(p.ProcessId).Kill();
        });
        var dll = Path.Combine(AppContext.BaseDirectory, "EdgeLlm.Cli.dll");
        var result = WorkerPool.Run(plan, runDir, new WorkerPoolOptions(2), slot =>
            new ProcessStartInfo("dotnet", [dll, "eval-worker", runDir, "--writer", slot.Writer]), progress);

        Assert.Equal(1, killed);
        Assert.Contains(notes, n => n.StartsWith("worker 1 ") && n.Contains("exited with code 137") && n.Contains("goes back to the queue") && n.EndsWith("restarting it"));
        Assert.Contains(notes, n => n.StartsWith("worker 1 ") && n.EndsWith(": restarted"));
        Assert.True(result.Complete);
        foreach (var task in new[] { "csqa", "bbh" })
        {
            Assert.Equal(want.GetProperty(task).GetProperty("score").GetDouble(), result.Summary!.Tasks[task].Score);
            Assert.Equal(Outputs(Path.Combine(Temp, "single"), task + ".jsonl"), Outputs(runDir, task + ".worker-*.jsonl"));
        }
    }

    [SkippableFact]
    public void DevicesWithoutCudaIsOneClearError()
    {
        Skip.If(WorkerDevices.CudaDeviceCount() > 0, "this machine has a CUDA device");
        var r = CliRunner.Run(["eval", Model, .. Common, "--out", Path.Combine(Temp, "d"), "--devices", "0,1"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("edgellm: --devices: no CUDA device on this machine (the CUDA driver, libcuda.so.1, is missing or reports none); use --workers N for CPU workers.", r.Stderr.Trim());
    }

    // Every sample once (a duplicate id would throw), with its output; a line cut by the kill is not a record.
    private static readonly string[] Tasks = ["csqa", "bbh"];

    /// <summary>Every task's score as the single process gave it, over all 12 samples.</summary>
    private static void SameScores(System.Text.Json.JsonElement want, System.Text.Json.JsonElement got)
    {
        foreach (var task in Tasks)
        {
            Assert.Equal(want.GetProperty(task).GetProperty("score").GetDouble(), got.GetProperty(task).GetProperty("score").GetDouble());
            Assert.Equal(12, got.GetProperty(task).GetProperty("samples").GetInt32());
        }
    }

    private static SortedDictionary<string, string> Outputs(string dir, string pattern)
    {
        var outputs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var r in Directory.GetFiles(dir, pattern).SelectMany(EdgeLlm.Evaluation.Runs.RunDirectory.ReadRecords))
            outputs.Add(r.Id, r.Output);
        return outputs;
    }

    private sealed class Immediate(Action<WorkerPoolProgress> report) : IProgress<WorkerPoolProgress>
    {
        public void Report(WorkerPoolProgress value) => report(value);
    }
}
