using System.Text;
using System.Text.Json;
using EdgeLlm.Evaluation.Distributed;
using EdgeLlm.Evaluation.Protocols;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Inference;
using EdgeLlm.Profiling;

namespace EdgeLlm.Evaluation.Workflows;

/// <summary>An evaluation's outcome: summary.json's content, each task's run result, and the run folder.</summary>
public sealed record EvaluationOutcome(EvaluationSummary Summary, IReadOnlyList<TaskRunResult> Results, RunDirectory Run);

/// <summary>An inference-only call's outcome (<see cref="EvaluationMode.Infer"/>): each task's predictions, and the run folder.</summary>
public sealed record InferenceOutcome(IReadOnlyList<InferenceTaskResult> Tasks, RunDirectory Run);

/// <summary>One task's prompts as written by <see cref="EvaluationWorkflow.ExportPrompts"/>.</summary>
public sealed record PromptFile(string Task, string Path, int Samples);

/// <summary>One line of DIR/prompts/&lt;task&gt;.jsonl: the exact model input of a sample and how it is generated.</summary>
public sealed record PromptLine(string Id, string Text, int[] Ids, int MaxNewTokens, IReadOnlyList<string> Stop);

/// <summary>
/// <c>edgellm eval</c> as library calls: <see cref="Run"/> scores a model folder under a protocol into a run folder
/// (claimed for that model and protocol, resumable) and writes summary.json; <see cref="ExportPrompts"/> writes
/// every selected sample's model input without loading the model.
/// </summary>
public static class EvaluationWorkflow
{
    public static IReadOnlyList<IEvaluationTask> CreateTasks(EvaluationRequest request) =>
        request.TaskNames.Select(n => TaskCatalog.Create(n, request.DatasetsFolder, request.Protocol, request.MaxSeqLen)).ToList();

    /// <summary>The longest new-token limit of the tasks besides LongBench (whose prompt and output fit in MaxSeqLen).</summary>
    public const int LongestNewTokens = 512;

    /// <summary>How a loaded model generates a request's samples: its max batch (or one chosen from memory) and KV budget.</summary>
    public static BatchChoice ChooseBatching(CausalLM model, EvaluationRequest request)
    {
        var choice = BatchSizing.Choose(model, request.MaxBatch, request.MaxSeqLen + LongestNewTokens);
        return choice with { Options = choice.Options with { SharedPrefixMinTokens = request.SharedPrefixMinTokens } };
    }

    /// <summary>
    /// Generates and scores (<see cref="EvaluationMode.All"/>), or only scores what <see cref="Infer"/> left
    /// (<see cref="EvaluationMode.Score"/>: no weights are loaded), and writes summary.json.
    /// </summary>
    /// <remarks><paramref name="batchChosen"/> hears how generation is batched (<see cref="ChooseBatching"/>) once the model is loaded.</remarks>
    public static EvaluationOutcome Run(EvaluationRequest request, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default,
        IProgress<BatchChoice>? batchChosen = null)
    {
        if (request.Mode == EvaluationMode.Infer) throw new ArgumentException("EvaluationMode.Infer runs through EvaluationWorkflow.Infer.", nameof(request));
        var tasks = CreateTasks(request);
        foreach (var task in tasks) task.EnsureCanScore(); // before hours of the other tasks, not when HumanEval's turn comes
        var prompting = ModelPrompting.Prepare(request.ModelFolder, request.Protocol, request.ChatTemplateFile);
        var run = RunFolder(request);
        var options = new RunOptions(request.Limit, request.Shard);
        ModelIdentity model;
        List<TaskRunResult> results;
        int? maxBatch = null;
        if (request.Mode == EvaluationMode.Score)
        {
            model = Confirm(request, prompting).Model;
            var scorer = new EvaluationRunner(null, run, prompting.Formatter);
            results = tasks.Select(t => scorer.Run(t, options, progress, cancellationToken)).ToList();
        }
        else
        {
            model = Claim(request, prompting).Model;
            using var lm = CausalLM.Load(request.ModelFolder, request.Engine);
            var batching = ChooseBatching(lm, request);
            batchChosen?.Report(batching);
            maxBatch = batching.Options.MaxBatch;
            var runner = new EvaluationRunner(new EngineEvaluationModel(lm, prompting.Tokenizer, batching.Options), run, prompting.Formatter);
            results = tasks.Select(t => runner.Run(t, options, progress, cancellationToken)).ToList();
        }
        var summary = new EvaluationSummary(model.Folder, model.Fingerprint, request.Protocol.Name, request.Protocol.Style.ToString().ToLowerInvariant(),
            prompting.ChatTemplateSource, prompting.StopWords, request.Shard.ToString(), request.Limit,
            results.ToDictionary(r => r.Summary.Task, r => new TaskScores(TaskCatalog.ConfigOf(r.Summary.Task, request.Protocol), r.Summary.Score,
                r.Summary.Samples, r.Summary.Subsets, r.Summary.Metrics, r.NewSamples, r.Skipped, r.SamplesPerSecond)),
            maxBatch);
        if (run.Writer is null) run.WriteSummary(summary);
        else run.WriteJson($"summary.{run.Writer}.json", summary);
        return new EvaluationOutcome(summary, results, run);
    }

    /// <summary>
    /// Only generates (<see cref="EvaluationMode.Infer"/>): every selected sample with neither a record nor a prediction goes
    /// into RUN_DIR/predictions, to be scored later by <see cref="Run"/> (here or on a machine with HumanEval's sandbox).
    /// No task's scoring needs are checked and no summary is written.
    /// </summary>
    public static InferenceOutcome Infer(EvaluationRequest request, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default,
        IProgress<BatchChoice>? batchChosen = null)
    {
        var tasks = CreateTasks(request);
        var prompting = ModelPrompting.Prepare(request.ModelFolder, request.Protocol, request.ChatTemplateFile);
        var run = RunFolder(request);
        Claim(request, prompting);
        using var lm = CausalLM.Load(request.ModelFolder, request.Engine);
        var batching = ChooseBatching(lm, request);
        batchChosen?.Report(batching);
        var runner = new EvaluationRunner(new EngineEvaluationModel(lm, prompting.Tokenizer, batching.Options), run, prompting.Formatter);
        var options = new RunOptions(request.Limit, request.Shard);
        return new InferenceOutcome(tasks.Select(t => runner.Infer(t, options, progress, cancellationToken)).ToList(), run);
    }

    /// <summary>
    /// The request's run folder; a shard of several writes its own record, prediction and summary files, so the shards of a
    /// split run share one folder (eval merge).
    /// </summary>
    private static RunDirectory RunFolder(EvaluationRequest request)
    {
        string? writer = request.Shard.N > 1 ? $"shard-{request.Shard.K}-of-{request.Shard.N}" : null;
        var run = new RunDirectory(request.RunFolder, writer);
        // A folder split by --slurm-array/--workers: its shards select what its plan says. Scoring alone reads whatever
        // predictions the shards left (a missing one is an error), perhaps on another machine with other paths.
        if (request.Mode != EvaluationMode.Score) RunPlan.Of(request, 1).CheckAgainst(request.RunFolder);
        return run;
    }

    /// <summary>
    /// For scoring without the weights: the folder must already be claimed (run.json) for this protocol and chat template, and
    /// by this model when its weight files are present (the fingerprint counts their names and sizes); a folder holding only
    /// config and tokenizer is taken on the protocol and template alone.
    /// </summary>
    public static RunIdentity Confirm(EvaluationRequest request, ModelPrompting prompting)
    {
        var folder = new RunDirectory(request.RunFolder);
        var existing = folder.ReadIdentity()
            ?? throw new MissingPredictionsException($"{folder.IdentityPath} does not exist: nothing was generated into {request.RunFolder}; run `eval --mode infer` first.");
        var templateHash = prompting.Formatter is ChatPromptFormatter chat ? RunIdentity.HashText(chat.Template.Source) : null;
        var here = new RunIdentity(request.Protocol.Name, request.Protocol.Style.ToString().ToLowerInvariant(), ModelIdentity.Of(request.ModelFolder), templateHash);
        if (!ModelIdentity.HasWeights(request.ModelFolder)) here = here with { Model = existing.Model };
        folder.CheckAgainst(existing, here);
        return existing;
    }

    /// <summary>
    /// Binds the request's run folder to its model, protocol and chat template (RUN_DIR/run.json), refusing a folder
    /// another model or protocol wrote. A run split over processes claims once, before its first shard starts.
    /// </summary>
    public static RunIdentity Claim(EvaluationRequest request, ModelPrompting prompting)
    {
        var templateHash = prompting.Formatter is ChatPromptFormatter chat ? RunIdentity.HashText(chat.Template.Source) : null;
        var identity = new RunIdentity(request.Protocol.Name, request.Protocol.Style.ToString().ToLowerInvariant(), ModelIdentity.Of(request.ModelFolder), templateHash);
        new RunDirectory(request.RunFolder).Claim(identity);
        return identity;
    }

    /// <summary>Writes OUT/prompts/&lt;task&gt;.jsonl (each file atomically) for the request's tasks, limit and shard.</summary>
    public static IReadOnlyList<PromptFile> ExportPrompts(EvaluationRequest request, string outFolder, CancellationToken cancellationToken = default)
    {
        var tasks = CreateTasks(request);
        var prompting = ModelPrompting.Prepare(request.ModelFolder, request.Protocol, request.ChatTemplateFile);
        var folder = Path.Combine(outFolder, "prompts");
        Directory.CreateDirectory(folder);
        var files = new List<PromptFile>();
        foreach (var task in tasks)
        {
            var path = Path.Combine(folder, task.Name + ".jsonl");
            var temp = path + ".tmp";
            var selected = EvaluationRunner.Select(task.LoadSamples(), new RunOptions(request.Limit, request.Shard));
            using (var writer = new StreamWriter(temp, false, new UTF8Encoding(false)))
            {
                foreach (var (_, sample) in selected)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var formatted = prompting.Formatter.Format(sample);
                    var line = new PromptLine(sample.Id, formatted.Text, PromptEncoding.Encode(prompting.Tokenizer, formatted.Text, formatted.Request),
                        formatted.Request.MaxNewTokens, formatted.Request.StopStrings);
                    writer.Write(JsonSerializer.Serialize(line, RunDirectory.Json));
                    writer.Write('\n');
                }
            }
            File.Move(temp, path, overwrite: true);
            files.Add(new PromptFile(task.Name, path, selected.Count));
        }
        return files;
    }
}
