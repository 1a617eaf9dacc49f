using System.Text.Json;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Evaluation.Distributed;

/// <summary>
/// eval --slurm-array on a real single-node Slurm cluster (slurmctld + slurmd + munge on loopback, see
/// <see cref="SlurmCluster"/>): the array's tasks fill one run folder and eval merge's scores equal a
/// single-process run's, sample by sample.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class SlurmArrayClusterTests : TempDirectoryTest
{
    [SkippableFact]
    public void ArrayTasksOnARealClusterMergeToTheSingleProcessRun()
    {
        var (cluster, reason) = SlurmCluster.TryStart();
        Skip.If(cluster is null, "Slurm could not start on this machine: " + reason);
        using var _ = cluster;
        var model = Path.Combine(SharedData.RepoRoot, "data", "demo-model");
        string[] common = ["--tasks", "csqa,bbh", "--limit", "12", "--batch-size", "2", "--data", SharedData.Path("datasets")];

        var singleDir = Path.Combine(Temp, "single");
        var single = CliRunner.Run(["eval", model, .. common, "--out", singleDir, "--json"]);
        Assert.True(single.ExitCode == 0, single.Stderr);

        var runDir = Path.Combine(Temp, "array");
        var written = CliRunner.Run(["eval", model, .. common, "--out", runDir, "--slurm-array", "3", "--slurm-opts", "--cpus-per-task=1 --time=00:10:00", "--json"]);
        Assert.True(written.ExitCode == 0, written.Stderr);
        var script = written.Json.GetProperty("script").GetString()!;
        Assert.Equal(Path.Combine(runDir, "slurm", "eval-array.sbatch"), script);

        var before = CliRunner.Run("eval", "merge", runDir);
        Assert.Equal(1, before.ExitCode);
        Assert.Contains("shard 2/3: nothing recorded (8 samples)", before.Stderr);
        Assert.False(File.Exists(Path.Combine(runDir, "summary.json")));

        var (code, output) = cluster!.Client(TimeSpan.FromMinutes(6), "sbatch", "--wait", script);
        string TaskLogs() => string.Join("\n", Directory.GetFiles(Path.Combine(runDir, "slurm"), "*.out").Select(f => f + ": " + File.ReadAllText(f)));
        Assert.True(code == 0, $"sbatch --wait: {output}\n{TaskLogs()}\nslurmctld: {cluster.Tail("slurmctld.log")}");

        // Each array task wrote only its own shard, into its own files.
        for (int k = 1; k <= 3; k++)
        {
            var indices = ReadIndices(Path.Combine(runDir, $"csqa.shard-{k}-of-3.jsonl"));
            Assert.Equal(Enumerable.Range(0, 12).Where(i => i % 3 == k - 1), indices);
        }

        var merged = CliRunner.Run("eval", "merge", runDir, "--json", "--store", Path.Combine(Temp, "results.db"));
        Assert.True(merged.ExitCode == 0, merged.Stderr);
        Assert.Contains("recorded run", merged.Stderr);
        var want = single.Json.GetProperty("tasks");
        var got = merged.Json.GetProperty("tasks");
        foreach (var task in new[] { "csqa", "bbh" })
        {
            Assert.Equal(12, got.GetProperty(task).GetProperty("samples").GetInt32());
            Assert.Equal(want.GetProperty(task).GetProperty("score").GetDouble(), got.GetProperty(task).GetProperty("score").GetDouble());
            Assert.Equal(want.GetProperty(task).GetProperty("subsets").GetRawText(), got.GetProperty(task).GetProperty("subsets").GetRawText());
            // Sample by sample: the same greedy output for every prompt.
            var singleOutputs = Outputs(Directory.GetFiles(singleDir, task + ".jsonl"));
            var arrayOutputs = Outputs(Directory.GetFiles(runDir, task + ".shard-*.jsonl"));
            Assert.Equal(singleOutputs, arrayOutputs);
        }
        // Not a comparison of zeros: the demo model gets some BBH answers right.
        Assert.True(want.GetProperty("bbh").GetProperty("score").GetDouble() > 0);
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(runDir, "summary.json"))).RootElement;
        Assert.Equal(got.GetProperty("bbh").GetProperty("score").GetDouble(), summary.GetProperty("tasks").GetProperty("bbh").GetProperty("score").GetDouble());
    }

    private static List<int> ReadIndices(string path) =>
        File.ReadLines(path).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("index").GetInt32()).Order().ToList();

    private static SortedDictionary<string, string> Outputs(IEnumerable<string> files)
    {
        var outputs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in files.SelectMany(File.ReadLines))
        {
            var r = JsonDocument.Parse(line).RootElement;
            outputs.Add(r.GetProperty("id").GetString()!, r.GetProperty("output").GetString()!);
        }
        return outputs;
    }
}
