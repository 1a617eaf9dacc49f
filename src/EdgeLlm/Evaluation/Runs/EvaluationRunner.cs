using System.Diagnostics;
using EdgeLlm.Evaluation.Protocols;
using EdgeLlm.Inference;

namespace EdgeLlm.Evaluation.Runs;

/// <summary>Which samples a run covers. (How many are generated at once is the model's business: <see cref="EngineEvaluationModel.Batching"/>.)</summary>
/// <remarks>Limit: Only the first N samples of each task (before sharding), like OpenCompass's --debug subsets.</remarks>
public sealed record RunOptions(int? Limit = null, Shard? Shard = null);

/// <summary>
/// Progress of a run: a task, how many of its selected samples are done (resumed ones included), samples and generated
/// tokens per second over this call's work, the sequences in flight, and the estimated seconds left (null until a sample finished);
/// the prompt tokens run through the model and those taken from shared prefixes instead (<see cref="EdgeLlm.Inference.BatchProgress"/>).
/// </summary>
public sealed record EvaluationProgress(string Task, int Done, int Total, double SamplesPerSecond, double TokensPerSecond = 0, int InFlight = 0,
    double? EtaSeconds = null, long GeneratedTokens = 0, long PromptTokens = 0, long SharedPromptTokens = 0);

/// <summary>A task's outcome in one run: its summary over the run folder's records of the samples this call selected, and this call's speed.</summary>
public sealed record TaskRunResult(TaskSummary Summary, int NewSamples, int Skipped, double Seconds)
{
    public double SamplesPerSecond => Seconds > 0 ? NewSamples / Seconds : 0;
}

/// <summary>
/// Runs tasks against a model: selects the samples (limit, then shard), skips those already recorded in
/// the run folder, generates them all through the model (which streams each as it finishes), scores and appends each record as soon as it is known, and
/// writes the summary. Stopping at any point and running again finishes the same work. The formatter turns each
/// sample into the model's input (base: the prompt as it is; chat: the chat template's rendering), and the record
/// keeps that exact input.
/// </summary>
public sealed class EvaluationRunner(IEvaluationModel model, RunDirectory run, PromptFormatter formatter)
{
    public EvaluationRunner(IEvaluationModel model, RunDirectory run) : this(model, run, PromptFormatter.Base) { }

    public static IReadOnlyList<(int Index, EvalSample Sample)> Select(IReadOnlyList<EvalSample> samples, RunOptions options)
    {
        var shard = options.Shard ?? Shard.Whole;
        int count = Math.Min(samples.Count, options.Limit ?? int.MaxValue);
        return Enumerable.Range(0, count).Where(shard.Contains).Select(i => (i, samples[i])).ToList();
    }

    public TaskRunResult Run(IEvaluationTask task, RunOptions options, IProgress<EvaluationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        task.EnsureCanScore();
        var selected = Select(task.LoadSamples(), options);
        var done = run.ReadRecordsOf(task.Name).Select(r => r.Id).ToHashSet();
        var todo = selected.Where(s => !done.Contains(s.Sample.Id)).ToList();
        int skipped = selected.Count - todo.Count, finished = skipped;
        var clock = Stopwatch.StartNew();
        using (var writer = run.OpenWriter(task.Name))
        {
            // Every sample goes to the model at once; each record is written as soon as its sample finishes (the model
            // decides how many are in flight), so a stop loses only the samples in flight.
            var formatted = todo.Select(t => formatter.Format(t.Sample)).ToList();
            var prompts = formatted.Select(f => new PromptToGenerate(f.Text, f.Request)).ToList();
            var batch = new BatchProgress(0, 0, 0, 0, 0);
            void Report()
            {
                double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9), rate = (finished - skipped) / seconds;
                progress?.Report(new EvaluationProgress(task.Name, finished, selected.Count, rate, batch.GeneratedTokens / seconds, batch.InFlight,
                    rate > 0 ? (selected.Count - finished) / rate : null, batch.GeneratedTokens, batch.PromptTokens, batch.SharedPromptTokens));
            }
            var batchProgress = progress is null ? null : new InlineProgress<BatchProgress>(p => batch = p);
            Report();
            foreach (var output in model.GenerateEach(prompts, batchProgress, cancellationToken))
            {
                var (index, sample) = todo[output.Index];
                writer.Append(task.Score(sample with { Prompt = formatted[output.Index].Text }, index, output.Output));
                finished++;
                Report();
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
}
