using EdgeLlm.Evaluation.Runs;

namespace EdgeLlm.Evaluation.Distributed;

/// <summary>A task's coverage in a split run: samples the plan selects, how many are recorded, and the ids still missing.</summary>
public sealed record TaskCoverage(string Task, int Expected, int Recorded, IReadOnlyList<string> Missing);

/// <summary>A shard with samples still missing: how many of its samples (over all tasks) and which ids.</summary>
public sealed record ShardGap(string Shard, int Expected, int Missing, IReadOnlyList<string> MissingIds)
{
    /// <summary>Nothing of the shard was recorded (the process never ran, or died before its first record).</summary>
    public bool NotStarted => Missing == Expected;
}

/// <summary>Which samples of a split run are recorded; complete when no sample is missing.</summary>
public sealed record Coverage(IReadOnlyList<TaskCoverage> Tasks, IReadOnlyList<ShardGap> Gaps)
{
    public bool Complete => Gaps.Count == 0;
    public int MissingSamples => Tasks.Sum(t => t.Missing.Count);
}

/// <summary>A task's scores in summary.json.</summary>
public sealed record MergedTaskScores(double Score, int Samples, IReadOnlyDictionary<string, double> Subsets, IReadOnlyDictionary<string, double> Metrics);

/// <summary>RUN_DIR/summary.json of a split run, computed once from every record after all shards finished.</summary>
public sealed record MergedRunSummary(string Model, string Protocol, int Shards, int? Limit, IReadOnlyDictionary<string, MergedTaskScores> Tasks);

/// <summary>What <see cref="RunMerger.Merge"/> found: the coverage, and the summaries when the run is complete.</summary>
public sealed record MergeResult(Coverage Coverage, MergedRunSummary? Summary, IReadOnlyList<TaskSummary> TaskSummaries)
{
    public bool Complete => Coverage.Complete;
}

/// <summary>Checks a split run folder for completeness and computes its summary from all records.</summary>
public static class RunMerger
{
    /// <summary>
    /// Compares the samples the plan selects with the records in the folder, per task and per shard; with
    /// <paramref name="predictionsCount"/> (an inference-only run) a prediction counts as done too.
    /// </summary>
    public static Coverage Check(RunPlan plan, RunDirectory run, bool predictionsCount = false) => Check(plan, plan.CreateTasks(), run, predictionsCount);

    public static Coverage Check(RunPlan plan, IReadOnlyList<IEvaluationTask> tasks, RunDirectory run, bool predictionsCount = false)
    {
        var coverage = new List<TaskCoverage>();
        var expectedPerShard = new int[plan.Shards];
        var missingPerShard = Enumerable.Range(0, plan.Shards).Select(_ => new List<string>()).ToArray();
        foreach (var task in tasks)
        {
            var selected = EvaluationRunner.Select(task.LoadSamples(), new RunOptions(plan.Limit));
            var recorded = run.DoneIds(task.Name, predictionsCount);
            var missing = new List<string>();
            foreach (var (index, sample) in selected)
            {
                int shard = index % plan.Shards;
                expectedPerShard[shard]++;
                if (recorded.Contains(sample.Id)) continue;
                missing.Add(sample.Id);
                missingPerShard[shard].Add(sample.Id);
            }
            coverage.Add(new TaskCoverage(task.Name, selected.Count, selected.Count - missing.Count, missing));
        }
        var gaps = Enumerable.Range(0, plan.Shards).Where(s => missingPerShard[s].Count > 0)
            .Select(s => new ShardGap(new Shard(s + 1, plan.Shards).ToString(), expectedPerShard[s], missingPerShard[s].Count, missingPerShard[s]))
            .ToList();
        return new Coverage(coverage, gaps);
    }

    /// <summary>
    /// Checks the folder against its plan; when every sample is recorded, summarizes each task once from
    /// all its records (one per sample) and writes RUN_DIR/summary.json. An incomplete run writes nothing.
    /// </summary>
    public static MergeResult Merge(string runDir)
    {
        var plan = RunPlan.Load(runDir);
        var run = new RunDirectory(runDir);
        var tasks = plan.CreateTasks();
        var coverage = Check(plan, tasks, run);
        if (!coverage.Complete) return new MergeResult(coverage, null, []);
        var summaries = tasks.Select(t => Summarize(plan, t, run)).ToList();
        var summary = new MergedRunSummary(plan.Model, plan.Protocol, plan.Shards, plan.Limit,
            summaries.ToDictionary(s => s.Task, s => new MergedTaskScores(s.Score, s.Samples, s.Subsets, s.Metrics)));
        run.WriteSummary(summary);
        return new MergeResult(coverage, summary, summaries);
    }

    private static TaskSummary Summarize(RunPlan plan, IEvaluationTask task, RunDirectory run)
    {
        var ids = EvaluationRunner.Select(task.LoadSamples(), new RunOptions(plan.Limit)).Select(s => s.Sample.Id).ToHashSet();
        return task.Summarize(EvaluationRunner.Dedupe(run.ReadRecordsOf(task.Name)).Where(r => ids.Contains(r.Id)).ToList());
    }
}
