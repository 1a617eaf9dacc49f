using System.CommandLine;
using System.Diagnostics;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Distributed;
using EdgeLlm.Evaluation.Protocols;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Evaluation.Workflows;
using EdgeLlm.Inference;

namespace EdgeLlm.Cli.Commands;

/// <summary>eval's split runs: --slurm-array (writes an sbatch script), --workers/--devices (local worker processes), eval merge, and the hidden eval-worker.</summary>
internal static class EvalDistributed
{
    /// <summary>The command line that runs this same edgellm again (on a compute node or as a worker): absolute paths.</summary>
    public static IReadOnlyList<string> Self()
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which program is running edgellm");
        var entry = typeof(EvalDistributed).Assembly.Location;
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? [host, entry] : [host];
    }

    /// <summary>eval with --slurm-array, --workers or --devices: plans the split run, claims its folder once, then writes the script or runs the workers.</summary>
    public static int Run(EvaluationRequest request, int? slurmArray, string? slurmOpts, int? workers, string? devices, bool promptsOnly,
        string? store, bool asJson, CancellationToken cancel)
    {
        if (request.Shard != Shard.Whole) throw new ArgumentException("--shard cannot be combined with --slurm-array, --workers or --devices, which split the run themselves.");
        if (promptsOnly) throw new ArgumentException("--prompts-only writes prompts without running; it cannot be combined with --slurm-array, --workers or --devices.");
        if (slurmArray is not null && (workers is not null || devices is not null))
            throw new ArgumentException("--slurm-array writes a script for the cluster; give --workers/--devices on separate runs.");
        if (workers is not null && devices is not null)
            throw new ArgumentException("--workers and --devices both set the number of workers; give one.");
        if (request.Mode == EvaluationMode.Score)
            throw new ArgumentException("--mode eval scores in one process; leave out --slurm-array, --workers and --devices.");
        var plan = RunPlan.Of(request, slurmArray ?? 1);
        plan.CheckAgainst(request.RunFolder);
        EvaluationWorkflow.Claim(request, ModelPrompting.Prepare(request.ModelFolder, request.Protocol, request.ChatTemplateFile));
        return slurmArray is not null
            ? WriteSlurmArray(plan, request.RunFolder, slurmOpts, asJson, request.Mode == EvaluationMode.Infer)
            : RunWorkers(plan, request.RunFolder, workers, devices, store, asJson, cancel, request.Mode == EvaluationMode.Infer);
    }

    public static int WriteSlurmArray(RunPlan plan, string runDir, string? sbatchOptions, bool asJson, bool inferOnly = false)
    {
        var script = SlurmArray.Write(plan, runDir, Self(), sbatchOptions, inferOnly);
        string then = SlurmArray.AfterwardsCommand(plan, runDir, inferOnly);
        Output.Write(new { Script = script.Path, Submit = script.SubmitCommand, Shards = plan.Shards, Then = then }, asJson, () =>
        {
            Console.WriteLine($"wrote {script.Path} ({plan.Shards} array tasks{(inferOnly ? ", inference only" : "")})");
            Console.WriteLine($"submit: {script.SubmitCommand}");
            Console.WriteLine($"then:   {then}");
        });
        return 0;
    }

    public static int RunWorkers(RunPlan plan, string runDir, int? workers, string? devices, string? store, bool asJson, CancellationToken cancel,
        bool inferOnly = false)
    {
        IReadOnlyList<string>? deviceIds = devices is null ? null : WorkerDevices.Parse(devices, WorkerDevices.CudaDeviceCount());
        var options = new WorkerPoolOptions(workers ?? deviceIds?.Count ?? 1, deviceIds);
        var progress = new PrintedProgress(p => Console.Error.WriteLine(p.Note ?? $"{p.Task}: {p.Done}/{p.Total} (worker {p.Worker})"));
        var self = Self();
        var result = WorkerPool.Run(plan, runDir, options, slot =>
        {
            var psi = new ProcessStartInfo(self[0]);
            foreach (var a in self.Skip(1)) psi.ArgumentList.Add(a);
            foreach (var a in new[] { "eval-worker", Path.GetFullPath(runDir), "--writer", slot.Writer }) psi.ArgumentList.Add(a);
            if (inferOnly) psi.ArgumentList.Add("--infer");
            return psi;
        }, progress, cancel, inferOnly);
        if (!inferOnly) return Finish(runDir, result, store, asJson);
        string then = SlurmArray.AfterwardsCommand(plan, runDir, inferOnly: true);
        Output.Write(new { Predictions = new RunDirectory(runDir).PredictionsFolder, result.Coverage.Tasks, Then = then }, asJson, () =>
        {
            foreach (var t in result.Coverage.Tasks) Console.WriteLine($"{t.Task,-11} {t.Recorded,6} of {t.Expected} predicted or recorded");
            Console.WriteLine($"then:   {then}");
        });
        return 0;
    }

    public static Command Merge()
    {
        var runDir = new Argument<string>("run-dir") { Description = "The run folder the array tasks or workers wrote (with its plan.json)." };
        var store = CommonOptions.Store();
        store.Description += " The run is keyed by the run folder.";
        var json = CommonOptions.Json();
        var command = new Command("merge", "Check that every shard of a split run is recorded, then write its summary.json (and store records).") { runDir, store, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            CommonOptions.CheckStore(parse.GetValue(store));
            var dir = parse.GetValue(runDir)!;
            var result = RunMerger.Merge(dir);
            if (!result.Complete)
            {
                Output.Write(new { Complete = false, result.Coverage.MissingSamples, result.Coverage.Gaps, result.Coverage.Tasks }, parse.GetValue(json), () => { });
                PrintGaps(dir, result.Coverage);
                return 1;
            }
            return Finish(dir, result, parse.GetValue(store), parse.GetValue(json));
        }));
        return command;
    }

    /// <summary>The process a worker pool starts per slot: serves shards named on stdin (see ShardWorker).</summary>
    public static Command Worker()
    {
        var runDir = new Argument<string>("run-dir");
        var writer = new Option<string>("--writer") { Required = true };
        var infer = new Option<bool>("--infer") { Description = "Only generate, into the folder's predictions (eval --workers --mode infer)." };
        var command = new Command("eval-worker", "(internal) one worker process of eval --workers.") { runDir, writer, infer };
        command.Hidden = true;
        command.SetAction((parse, cancel) => Task.FromResult(Output.Guard(() =>
        {
            var dir = parse.GetValue(runDir)!;
            var plan = RunPlan.Load(dir);
            var prompting = ModelPrompting.Prepare(plan.Model, EvaluationProtocols.Get(plan.Protocol), plan.ChatTemplateFile);
            // The pool gives a GPU worker its device as the only visible one (CUDA_VISIBLE_DEVICES), so it is cuda:0 here.
            var engine = Environment.GetEnvironmentVariable("EDGELLM_DEVICE") is null ? null : CommonOptions.Engine("cuda:0");
            using var lm = CausalLM.Load(plan.Model, engine);
            var batching = EvaluationWorkflow.ChooseBatching(lm, plan.RequestFor(dir, Shard.Whole));
            Console.Error.WriteLine($"worker {parse.GetValue(writer)}: {batching.Note}");
            ShardWorker.Serve(plan, new EngineEvaluationModel(lm, prompting.Tokenizer, batching.Options), prompting.Formatter,
                new RunDirectory(dir, parse.GetValue(writer)), Console.In, Console.Out, cancel, parse.GetValue(infer));
            return 0;
        })));
        return command;
    }

    private static int Finish(string runDir, MergeResult result, string? store, bool asJson)
    {
        var summary = result.Summary!;
        CommonOptions.Record(store, db => db.AddOrReplaceRun(StoreAdapters.EvaluationRun(
            StoreAdapters.Identify(summary.Model) with { Key = $"eval:{Path.GetFullPath(runDir)}", Notes = $"run folder {Path.GetFullPath(runDir)}, merged from {summary.Shards} shards, limit {summary.Limit?.ToString() ?? "none"}" },
            new RunDirectory(runDir), result.TaskSummaries)));
        Output.Write(summary, asJson, () =>
        {
            foreach (var (task, s) in summary.Tasks)
                Console.WriteLine($"{task,-11} {s.Score,8:F2}  ({s.Samples} samples)");
        });
        return 0;
    }

    // Printed as reported (Progress<T> would post to the thread pool and could lose the last lines at exit).
    private sealed class PrintedProgress(Action<WorkerPoolProgress> print) : IProgress<WorkerPoolProgress>
    {
        public void Report(WorkerPoolProgress value) { lock (this) print(value); }
    }

    private static void PrintGaps(string runDir, Coverage coverage)
    {
        Console.Error.WriteLine($"edgellm: {runDir} is incomplete: {coverage.MissingSamples} samples missing in {coverage.Gaps.Count} shard(s); no summary written.");
        foreach (var gap in coverage.Gaps)
        {
            var ids = string.Join(", ", gap.MissingIds.Take(8)) + (gap.MissingIds.Count > 8 ? $", … ({gap.MissingIds.Count - 8} more)" : "");
            Console.Error.WriteLine(gap.NotStarted
                ? $"  shard {gap.Shard}: nothing recorded ({gap.Expected} samples)"
                : $"  shard {gap.Shard}: {gap.Missing} of {gap.Expected} samples missing: {ids}");
        }
        foreach (var task in coverage.Tasks.Where(t => t.Missing.Count > 0))
            Console.Error.WriteLine($"  {task.Task}: {task.Recorded} of {task.Expected} recorded");
    }
}
