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

/// <summary>A task's outcome in an inference-only run (<c>eval --mode infer</c>): predictions written, resumed, and this call's speed.</summary>
public sealed record InferenceTaskResult(string Task, int Selected, int NewPredictions, int Skipped, double Seconds)
{
    public double SamplesPerSecond => Seconds > 0 ? NewPredictions / Seconds : 0;
}

/// <summary>Samples a scoring run needs outputs for that neither a record nor a prediction holds, and no model to generate them.</summary>
public sealed class MissingPredictionsException(string message) : EdgeLlmException(message);

/// <summary>
/// Runs tasks against a model: selects the samples (limit, then shard), skips those already recorded in
/// the run folder, generates them all through the model (which streams each as it finishes), scores and appends each record as soon as it is known, and
/// writes the summary. Stopping at any point and running again finishes the same work. The formatter turns each
/// sample into the model's input (base: the prompt as it is; chat: the chat template's rendering), and the record
/// keeps that exact input.
/// Generation and scoring can also run apart, as OpenCompass's infer and eval modes do: <see cref="Infer"/> only writes
/// predictions; <see cref="Run"/> scores a sample's prediction when it has one and generates only the rest (with no model,
/// every sample must have one).
/// </summary>
public sealed class EvaluationRunner(IEvaluationModel? model, RunDirectory run, PromptFormatter formatter)
{
    public EvaluationRunner(IEvaluationModel? model, RunDirectory run) : this(model, run, PromptFormatter.Base) { }

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
        var done = run.DoneIds(task.Name, predictionsCount: false);
        var todo = selected.Where(s => !done.Contains(s.Sample.Id)).ToList();
        var predicted = FirstById(run.ReadPredictionsOf(task.Name));
        var generate = todo.Where(t => !predicted.ContainsKey(t.Sample.Id)).ToList();
        if (generate.Count > 0 && model is null)
            throw new MissingPredictionsException($"{run.PredictionsFolder}: {generate.Count} of the {selected.Count} selected {task.Name} samples have " +
                $"neither a record nor a prediction (the first: {generate[0].Sample.Id}); run `eval --mode infer` for them first.");
        int skipped = selected.Count - todo.Count;
        var clock = Stopwatch.StartNew();
        using (var writer = run.OpenWriter(task.Name))
        {
            int finished = skipped;
            // Outputs generated earlier without scoring (eval --mode infer) are scored as they are, from the input they were generated from.
            foreach (var (index, sample) in todo.Where(t => predicted.ContainsKey(t.Sample.Id)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var p = predicted[sample.Id];
                writer.Append(task.Score(sample with { Prompt = p.Prompt }, index, p.Output));
                finished++;
            }
            Generate(task.Name, generate, selected.Count, finished, progress, cancellationToken,
                (index, sample, prompt, output) => writer.Append(task.Score(sample with { Prompt = prompt }, index, output)));
        }
        // Only the selected samples: other processes may be filling other shards of the same folder.
        var selectedIds = selected.Select(s => s.Sample.Id).ToHashSet();
        var summary = task.Summarize(Dedupe(run.ReadRecordsOf(task.Name)).Where(r => selectedIds.Contains(r.Id)).ToList());
        return new TaskRunResult(summary, todo.Count, skipped, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Generates the selected samples that have neither a record nor a prediction and appends each output to the task's
    /// predictions, unscored: nothing here needs what scoring needs (HumanEval's sandbox). Resumes like <see cref="Run"/>.
    /// </summary>
    public InferenceTaskResult Infer(IEvaluationTask task, RunOptions options, IProgress<EvaluationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (model is null) throw new InvalidOperationException("Inference needs a model.");
        var selected = Select(task.LoadSamples(), options);
        var done = run.DoneIds(task.Name, predictionsCount: true);
        var todo = selected.Where(s => !done.Contains(s.Sample.Id)).ToList();
        int skipped = selected.Count - todo.Count;
        var clock = Stopwatch.StartNew();
        using (var writer = run.OpenPredictionWriter(task.Name))
            Generate(task.Name, todo, selected.Count, skipped, progress, cancellationToken,
                (index, sample, prompt, output) => writer.Append(new Prediction(sample.Id, index, prompt, output)));
        return new InferenceTaskResult(task.Name, selected.Count, todo.Count, skipped, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Every sample of <paramref name="todo"/> goes to the model at once; each output is handed on (with the exact input) as soon
    /// as its sample finishes (the model decides how many are in flight), so a stop loses only the samples in flight.
    /// </summary>
    private void Generate(string taskName, List<(int Index, EvalSample Sample)> todo, int total, int finished, IProgress<EvaluationProgress>? progress,
        CancellationToken cancellationToken, Action<int, EvalSample, string, string> done)
    {
        int before = finished;
        var clock = Stopwatch.StartNew();
        var formatted = todo.Select(t => formatter.Format(t.Sample)).ToList();
        var prompts = formatted.Select(f => new PromptToGenerate(f.Text, f.Request)).ToList();
        var batch = new BatchProgress(0, 0, 0, 0, 0);
        void Report()
        {
            double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9), rate = (finished - before) / seconds;
            progress?.Report(new EvaluationProgress(taskName, finished, total, rate, batch.GeneratedTokens / seconds, batch.InFlight,
                rate > 0 ? (total - finished) / rate : null, batch.GeneratedTokens, batch.PromptTokens, batch.SharedPromptTokens));
        }
        var batchProgress = progress is null ? null : new InlineProgress<BatchProgress>(p => batch = p);
        Report();
        if (todo.Count == 0) return;
        foreach (var output in model!.GenerateEach(prompts, batchProgress, cancellationToken))
        {
            var (index, sample) = todo[output.Index];
            done(index, sample, formatted[output.Index].Text, output.Output);
            finished++;
            Report();
        }
    }

    private static Dictionary<string, Prediction> FirstById(IEnumerable<Prediction> predictions)
    {
        var first = new Dictionary<string, Prediction>();
        foreach (var p in predictions) first.TryAdd(p.Id, p);
        return first;
    }

    /// <summary>One record per sample id (the first), in sample order: what a summary is computed from.</summary>
    public static List<SampleRecord> Dedupe(IEnumerable<SampleRecord> records) =>
        records.GroupBy(r => r.Id).Select(g => g.First()).OrderBy(r => r.Index).ToList();

    /// <summary>The summary of a task over several run folders (shards of one run).</summary>
    public static TaskSummary Merge(IEvaluationTask task, IEnumerable<RunDirectory> shards) =>
        task.Summarize(Dedupe(shards.SelectMany(s => s.ReadRecordsOf(task.Name))));
}
