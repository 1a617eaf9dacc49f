using System.Diagnostics;
using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Distributed;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Evaluation.Tasks;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Evaluation.Distributed;

/// <summary>Shards sharing one run folder: per-writer files, the plan, eval merge's completeness check, the sbatch script.</summary>
public class SplitRunTests : TempDirectoryTest
{
    private static IEvaluationTask Csqa() => new CommonsenseQaTask(SharedData.Path("datasets", "commonsenseqa", "dev_rand_split.jsonl"));
    private static ScriptedModel Model() => new(p => p.Length % 2 == 0 ? "A" : "the answer is B");
    private static RunPlan Plan(int shards, int? limit = 10) => new("unused-model", ["csqa"], SharedData.Path("datasets"), limit, shards);

    private void RunShard(string dir, int k, int n) =>
        new EvaluationRunner(Model(), new RunDirectory(dir, $"shard-{k}-of-{n}")).Run(Csqa(), Plan(n).OptionsFor(new Shard(k, n)));

    [Fact]
    public void MergeListsTheMissingShardsAndSamplesThenSummarizesOnce()
    {
        var dir = Path.Combine(Temp, "run");
        Plan(3).Normalized().SaveTo(dir);
        RunShard(dir, 1, 3);
        RunShard(dir, 3, 3);
        // Shard 3 (indices 2, 5, 8) lost its last record.
        var shard3 = Path.Combine(dir, "csqa.shard-3-of-3.jsonl");
        File.WriteAllLines(shard3, File.ReadAllLines(shard3)[..2]);

        var partial = RunMerger.Merge(dir);
        Assert.False(partial.Complete);
        Assert.Null(partial.Summary);
        Assert.False(File.Exists(Path.Combine(dir, "summary.json")));
        Assert.Equal(["2/3", "3/3"], partial.Coverage.Gaps.Select(g => g.Shard));
        Assert.True(partial.Coverage.Gaps[0].NotStarted);
        Assert.Equal(["csqa/1", "csqa/4", "csqa/7"], partial.Coverage.Gaps[0].MissingIds);
        Assert.Equal(["csqa/8"], partial.Coverage.Gaps[1].MissingIds);
        Assert.Equal(4, partial.Coverage.MissingSamples);
        Assert.Equal(6, partial.Coverage.Tasks.Single().Recorded);

        RunShard(dir, 2, 3);
        RunShard(dir, 3, 3); // resumes: only csqa/8
        var merged = RunMerger.Merge(dir);
        Assert.True(merged.Complete);
        var whole = new EvaluationRunner(Model(), new RunDirectory(Path.Combine(Temp, "whole"))).Run(Csqa(), new RunOptions(Limit: 10));
        Assert.Equal(whole.Summary.Score, merged.Summary!.Tasks["csqa"].Score, 12);
        Assert.Equal(10, merged.Summary.Tasks["csqa"].Samples);
        Assert.Equal(3, File.ReadAllLines(shard3).Length);
        var samples = Csqa().LoadSamples().Take(10).ToList();
        Assert.Equal(100.0 * samples.Count(s => (s.Prompt.Length % 2 == 0 ? "A" : "B") == s.Reference) / 10, merged.Summary.Tasks["csqa"].Score, 12);
        Assert.True(File.Exists(Path.Combine(dir, "summary.json")));
    }

    [Fact]
    public void WritersAppendToTheirOwnFilesAndReadersSeeAll()
    {
        var dir = Path.Combine(Temp, "w");
        new EvaluationRunner(Model(), new RunDirectory(dir)).Run(Csqa(), new RunOptions(Limit: 2));
        RunShard(dir, 2, 2);
        var files = new RunDirectory(dir).RecordFiles("csqa").Select(Path.GetFileName);
        Assert.Equal(["csqa.jsonl", "csqa.shard-2-of-2.jsonl"], files);
        // csqa/0 and csqa/1, then shard 2's indices 3, 5, 7, 9 (index 1 was already recorded).
        Assert.Equal([0, 1, 3, 5, 7, 9], new RunDirectory(dir).ReadRecordsOf("csqa").Select(r => r.Index));
        Assert.Throws<ArgumentException>(() => new RunDirectory(dir, "../x"));
    }

    [Fact]
    public void AFolderKeepsItsPlan()
    {
        var dir = Path.Combine(Temp, "p");
        Plan(3).Normalized().SaveTo(dir);
        Plan(5).Normalized().SaveTo(dir); // another shard count selects the same samples
        var e = Assert.Throws<InvalidOperationException>(() => Plan(3, limit: 20).Normalized().SaveTo(dir));
        Assert.Contains("belongs to another run", e.Message);
        Assert.Contains("limit 10", e.Message);
        Assert.Equal(5, RunPlan.Load(dir).Shards);
    }

    [Fact]
    public void AShardRunIntoAPlannedFolderMustMatchItsPlan()
    {
        var dir = Path.Combine(Temp, "planned");
        var model = Path.Combine(SharedData.RepoRoot, "data", "demo-model");
        new RunPlan(model, ["csqa"], SharedData.Path("datasets"), 12, 3, Protocol: "kit-2024-base").Normalized().SaveTo(dir);
        var r = CliRunner.Run("eval", model, "--protocol", "kit-2024-base", "--tasks", "csqa", "--limit", "5", "--data", SharedData.Path("datasets"), "--out", dir, "--shard", "1/3");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("plan.json belongs to another run", r.Stderr);
        Assert.Contains("limit 12", r.Stderr);
        Assert.Empty(Directory.GetFiles(dir, "*.jsonl"));
    }

    [Fact]
    public void OnePoolPerFolder()
    {
        var dir = Path.Combine(Temp, "locked");
        Directory.CreateDirectory(dir);
        using var other = new FileStream(Path.Combine(dir, "workers.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var e = Assert.Throws<IOException>(() => WorkerPool.Run(Plan(1), dir, new WorkerPoolOptions(2), _ => throw new InvalidOperationException("no worker may start")));
        Assert.Contains("another eval --workers is running on this folder", e.Message);
        Assert.False(File.Exists(Path.Combine(dir, "plan.json")));
    }

    [Fact]
    public void TheSbatchScriptRunsShardKOfNPerArrayTask()
    {
        var dir = Path.Combine(Temp, "s");
        var script = SlurmArray.Write(Plan(4), dir, ["echo"], "-p gpu --gres=gpu:1");
        var lines = script.Text.Split('\n');
        Assert.Contains("#SBATCH --array=1-4", lines);
        Assert.Contains("#SBATCH -p gpu", lines);
        Assert.Contains("#SBATCH --gres=gpu:1", lines);
        Assert.Contains($"#SBATCH --output={dir}/slurm/%A_%a.out", lines);
        // Run the script as array task 2 with "echo" for edgellm: the arguments edgellm would get.
        var psi = new ProcessStartInfo("bash", [script.Path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["SLURM_ARRAY_TASK_ID"] = "2";
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        Assert.Equal($"eval {Path.GetFullPath("unused-model")} --tasks csqa --data {SharedData.Path("datasets")} --max-seq-len 2048 --out {dir} --protocol edge-llm-2024 --limit 10 --shard 2/4", output);
        Assert.Equal(4, RunPlan.Load(dir).Shards);
        // A plan with a max batch passes it on; without one each array task chooses from its own memory.
        var batched = SlurmArray.Write(Plan(4) with { MaxBatch = 6 }, Path.Combine(Temp, "b"), ["echo"]);
        Assert.Contains(" --max-batch 6 ", batched.Text);
        Assert.DoesNotContain("--max-batch", script.Text);

        // Inference only: each task generates its shard into predictions; one scoring call follows.
        var inferDir = Path.Combine(Temp, "i");
        var infer = SlurmArray.Write(Plan(4), inferDir, ["echo"], inferOnly: true);
        var inferPsi = new ProcessStartInfo("bash", [infer.Path]) { RedirectStandardOutput = true };
        inferPsi.Environment["SLURM_ARRAY_TASK_ID"] = "3";
        using (var q = Process.Start(inferPsi)!)
        {
            Assert.EndsWith(" --limit 10 --mode infer --shard 3/4", q.StandardOutput.ReadToEnd().Trim());
            q.WaitForExit();
        }
        Assert.Contains($"# When every task has finished: edgellm eval {Path.GetFullPath("unused-model")} --mode eval --tasks csqa", infer.Text);
        Assert.Contains($"--out {inferDir} --limit 10\n", infer.Text);
        Assert.Contains($"# When every task has finished: edgellm eval merge {dir}\n", script.Text);

        psi.Environment.Remove("SLURM_ARRAY_TASK_ID");
        using var outside = Process.Start(psi)!;
        var error = outside.StandardError.ReadToEnd();
        outside.WaitForExit();
        Assert.NotEqual(0, outside.ExitCode);
        Assert.Contains("runs as a Slurm array task", error);
    }

    [Fact]
    public void SbatchOptionsAreCheckedAndGrouped()
    {
        Assert.Equal(["-p gpu", "--time=01:00:00", "-c 4"], SlurmArray.SbatchLines("-p gpu  --time=01:00:00 -c '4'"));
        Assert.Throws<FormatException>(() => SlurmArray.SbatchLines("gpu"));
        Assert.Throws<FormatException>(() => SlurmArray.SbatchLines("--array=1-3"));
        Assert.Throws<FormatException>(() => SlurmArray.SbatchLines("--comment='a b'"));
        Assert.Throws<FormatException>(() => SlurmArray.SbatchLines("-p 'gpu"));
    }

    [Fact]
    public void DevicesAreParsedAgainstWhatTheDriverReports()
    {
        Assert.Equal(["0", "1", "2"], WorkerDevices.Parse("all", 3));
        Assert.Equal(["2", "0"], WorkerDevices.Parse("2, 0", 3));
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() => WorkerDevices.Parse("3", 3)).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => WorkerDevices.Parse("1,1", 3)).Message);
        Assert.Throws<FormatException>(() => WorkerDevices.Parse("-1", 3));
        Assert.Contains("no CUDA device", Assert.Throws<NotSupportedException>(() => WorkerDevices.Parse("0", 0)).Message);
    }
}
