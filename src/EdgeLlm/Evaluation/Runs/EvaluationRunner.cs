using System.Diagnostics;

namespace EdgeLlm.Evaluation.Runs;

/// <summary>Which samples a run covers and how many prompts go to the model at once.</summary>
/// <remarks>Limit: Only the first N samples of each task (before sharding), like OpenCompass's --debug subsets.</remarks>
public sealed record RunOptions(int? Limit = null, Shard? Shard = null, int BatchSize = 4);

/// <summary>Progress of a run: a task, how many of its selected samples are done, and samples per second so far.</summary>
public sealed record EvaluationProgress(string Task, int Done, int Total, double SamplesPerSecond);

/// <summary>A task's outcome in one run: its summary over the run folder's records of the samples this call selected, and this call's speed.</summary>
public sealed record TaskRunResult(TaskSummary Summary, int NewSamples, int Skipped, double Seconds)
{
    public double SamplesPerSecond => Seconds > 0 ? NewSamples / Seconds : 0;
}

/// <summary>
/// Runs tasks against a model: selects the samples (limit, then shard), skips those already recorded in
/// the run folder, generates in batches, scores and appends each record as soon as it is known, and
/// writes the summary. Stopping at any point and running again finishes the same work.
/// </summary>
public sealed class EvaluationRunner(IEvaluationModel model, RunDirectory run)
{
    public static IReadOnlyList<(int Index, EvalSample Sample)> Select(IReadOnlyList<EvalSample> samples, RunOptions options)
    {
        var shard = options.Shard ?? Shard.Whole;
        int count = Math.Min(samples.Count, options.Limit ?? int.MaxValue);
        return Enumerable.Range(0, count).Where(shard.Contains).Select(i => (i, samples[i])).ToList();
    }

    public TaskRunResult Run(IEvaluationTask task, RunOptions options, IProgress<EvaluationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var selected = Select(task.LoadSamples(), options);
        var done = run.ReadRecordsOf(task.Name).Select(r => r.Id).ToHashSet();
        var todo = selected.Where(s => !done.Contains(s.Sample.Id)).ToList();
        int skipped = selected.Count - todo.Count, finished = skipped;
        var clock = Stopwatch.StartNew();
        using (var writer = run.OpenWriter(task.Name))
        {
            // Samples with the same generation settings go together, in order.
            foreach (var batch in Batches(todo, Math.Max(1, options.BatchSize)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var outputs = model.Generate(batch.Select(b => b.Sample.Prompt).ToList(), batch[0].Sample.Request, cancellationToken);
                for (int j = 0; j < batch.Count; j++)
                {
                    writer.Append(task.Score(batch[j].Sample, batch[j].Index, outputs[j]));
                    finished++;
                }
                progress?.Report(new EvaluationProgress(task.Name, finished, selected.Count, (finished - skipped) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
            }
        }
        // Only the selected samples: other processes may be filling other shards of the same folder.
        var selectedIds = selected.Select(s => s.Sample.Id).ToHashSet();
        var summary = task.Summarize(Dedupe(run.ReadRecordsOf(task.Name)).Where(r => selectedIds.Contains(r.Id)).ToList());
        return new TaskRunResult(summary, todo.Count, skipped, clock.Elapsed.TotalSeconds);
    }

    /// <summary>One record per sample id (the first), in sample order: what a summary is computed from.</summary>
    public static List<SampleRecord> Dedupe(IEnumerable<SampleRecord> records) =>
        records.GroupBy(r => r.Id).Select(g => g.First()).OrderBy(r => r.Index).ToList();

    /// <summary>The summary of a task over several run folders (shards of one run).</summary>
    public static TaskSummary Merge(IEvaluationTask task, IEnumerable<RunDirectory> shards) =>
        task.Summarize(Dedupe(shards.SelectMany(s => s.ReadRecordsOf(task.Name))));

    private static IEnumerable<List<(int Index, EvalSample Sample)>> Batches(List<(int Index, EvalSample Sample)> items, int size)
    {
        var batch = new List<(int, EvalSample)>();
        foreach (var item in items)
        {
            if (batch.Count > 0 && (batch.Count == size || batch[0].Item2.Request != item.Sample.Request))
            {
                yield return batch;
                batch = new List<(int, EvalSample)>();
            }
            batch.Add(item);
        }
        if (batch.Count > 0) yield return batch;
    }
}
