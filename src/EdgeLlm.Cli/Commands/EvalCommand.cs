using System.CommandLine;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Analysis.Tables;
using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Distributed;
using EdgeLlm.Evaluation.Protocols;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Evaluation.Workflows;

namespace EdgeLlm.Cli.Commands;

internal static class EvalCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var protocol = new Option<string>("--protocol")
        {
            Description = "edge-llm-2024 (the kit's final chat protocol, default) or kit-2024-base (the early --hf-type base run).",
            DefaultValueFactory = _ => EvaluationProtocols.Default.Name,
        };
        var tasks = new Option<string?>("--tasks") { Description = "Comma-separated: " + string.Join(",", TaskCatalog.Names) + " (default: the protocol's list)." };
        var limit = new Option<int?>("--limit") { Description = "Only the first N samples of each task." };
        var shard = new Option<string>("--shard") { Description = "k/n: this process takes samples i with i mod n = k-1.", DefaultValueFactory = _ => "1/1" };
        var outDir = new Option<string>("--out") { Description = "Run folder (per-task JSON lines, run.json, summary.json); rerunning resumes. With --prompts-only: where prompts/ goes.", Required = true };
        var data = new Option<string>("--data") { Description = "Datasets folder (default: $EDGELLM_DATASETS or ../shared/datasets)." };
        var batch = new Option<int?>("--max-batch", "--batch-size")
        {
            Description = "The most samples generated at once (continuous batching: a sample's record is written when it finishes and the next " +
                "sample starts in its place). Default: chosen from the memory free once the model is loaded, and printed. Outputs do not " +
                "depend on it. --batch-size is the old name: OpenCompass's batch_size pads prompts together, which this engine never does.",
        };
        var sharePrefix = new Option<int>("--share-prefix")
        {
            Description = "A sample whose prompt starts with at least N tokens of one in flight (a few-shot prompt's exemplars) takes their keys " +
                "and values from it instead of computing them again; 0 turns it off. Outputs do not depend on it beyond float rounding.",
            DefaultValueFactory = _ => new EdgeLlm.Inference.BatcherOptions().SharedPrefixMinTokens,
        };
        var maxSeq = new Option<int>("--max-seq-len") { Description = "Longest prompt for LongBench's middle truncation.", DefaultValueFactory = _ => 2048 };
        var chatTemplate = new Option<string?>("--chat-template") { Description = "A .jinja chat template to use instead of the tokenizer's (chat protocols; required for a model without one)." };
        var mode = new Option<string>("--mode")
        {
            Description = "all: generate and score (default); infer: only generate, into OUT/predictions (no sandbox needed); eval: only score " +
                "those predictions (the model folder needs config and tokenizer, no weights), as OpenCompass's --mode.",
            DefaultValueFactory = _ => "all",
        };
        mode.AcceptOnlyFromAmong("all", "infer", "eval");
        var promptsOnly = new Option<bool>("--prompts-only") { Description = "Write OUT/prompts/<task>.jsonl (id, text, ids, max_new_tokens, stop) without running the model." };
        var kitCsv = new Option<string?>("--kit-csv") { Description = "Also write the starting kit's Results.csv (its columns and order) from the scores; Throughput from --phone-run, Memory-Usage from --memory-gb (empty without them)." };
        var phoneRun = new Option<string?>("--phone-run") { Description = "With --kit-csv: the phone run (its run id in --phone-jsonl) whose throughput score (mean of MLC prefill and decode tok/s) fills Throughput." };
        var phoneJsonl = new Option<string>("--phone-jsonl") { DefaultValueFactory = _ => EdgeLlm.Profiling.Phone.PhoneMeasurementStore.DefaultPath, Description = "Phone measurements written by `phone import`." };
        var memoryGb = new Option<double?>("--memory-gb") { Description = "With --kit-csv: the measured peak inference memory in GB for Memory-Usage." };
        var store = CommonOptions.Store();
        store.Description += " The run is keyed by the run folder and shard: rerunning replaces it with the folder's current records.";
        var device = CommonOptions.Device();
        var json = CommonOptions.Json();
        var slurmArray = new Option<int?>("--slurm-array") { Description = "Write an sbatch script whose array task k runs shard k/N into --out (shared storage) instead of running; then `eval merge RUN_DIR`." };
        var slurmOpts = new Option<string?>("--slurm-opts") { Description = "Extra sbatch options for --slurm-array, e.g. \"--partition=gpu --gres=gpu:1 --time=04:00:00\"." };
        var workers = new Option<int?>("--workers") { Description = "Run N worker processes on this machine, each taking shards of the run folder; the summary is computed once at the end." };
        var devices = new Option<string?>("--devices") { Description = "0,1,... or all: one worker process per CUDA device." };
        var command = new Command("eval", "Score a model on the challenge's OpenCompass tasks.")
        {
            model, protocol, tasks, limit, shard, outDir, data, batch, sharePrefix, maxSeq, chatTemplate, mode, promptsOnly, kitCsv, phoneRun, phoneJsonl, memoryGb, device, store, json,
            slurmArray, slurmOpts, workers, devices, EvalDistributed.Merge(),
        };
        command.SetAction((parse, cancel) => Task.FromResult(Output.Guard(() =>
        {
            CommonOptions.CheckStore(parse.GetValue(store));
            var request = new EvaluationRequest
            {
                ModelFolder = CommonOptions.ResolveModel(parse.GetValue(model)!),
                RunFolder = parse.GetValue(outDir)!,
                DatasetsFolder = parse.GetValue(data) ?? Environment.GetEnvironmentVariable("EDGELLM_DATASETS") ?? Path.Combine("..", "shared", "datasets"),
                Protocol = EvaluationProtocols.Get(parse.GetValue(protocol)!),
                Tasks = parse.GetValue(tasks)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                ChatTemplateFile = parse.GetValue(chatTemplate),
                Limit = parse.GetValue(limit),
                Shard = Shard.Parse(parse.GetValue(shard)!),
                MaxBatch = parse.GetValue(batch),
                SharedPrefixMinTokens = parse.GetValue(sharePrefix),
                MaxSeqLen = parse.GetValue(maxSeq),
                Engine = CommonOptions.Engine(parse.GetValue(device)!),
                Mode = parse.GetValue(mode) switch { "infer" => EvaluationMode.Infer, "eval" => EvaluationMode.Score, _ => EvaluationMode.All },
            };
            bool asJson = parse.GetValue(json);
            if (parse.GetValue(slurmArray) is not null || parse.GetValue(workers) is not null || parse.GetValue(devices) is not null)
                return EvalDistributed.Run(request, parse.GetValue(slurmArray), parse.GetValue(slurmOpts), parse.GetValue(workers), parse.GetValue(devices),
                    parse.GetValue(promptsOnly), parse.GetValue(store), asJson, cancel);
            if (parse.GetValue(promptsOnly))
            {
                var files = EvaluationWorkflow.ExportPrompts(request, request.RunFolder, cancel);
                Output.Write(new { Protocol = request.Protocol.Name, Prompts = files }, asJson, () =>
                {
                    Console.WriteLine($"protocol {request.Protocol.Name}: {request.Protocol.Reproduces}");
                    foreach (var f in files) Console.WriteLine($"{f.Task,-11} {f.Samples,6} prompts  {f.Path}");
                });
                return 0;
            }
            double? throughputScore = parse.GetValue(phoneRun) is { } pr ? EdgeLlm.Profiling.Phone.PhoneThroughputScore.ForRun(parse.GetValue(phoneJsonl)!, pr).Score : null;
            if (parse.GetValue(memoryGb) is double mem && !(double.IsFinite(mem) && mem > 0)) throw new ArgumentException($"--memory-gb must be a positive number of GB, got {mem}");
            if (request.Mode == EvaluationMode.Infer)
            {
                InferenceOutcome inferred;
                using (var printer = ProgressPrinter.Start())
                {
                    var shown = new EvalProgress(printer);
                    inferred = EvaluationWorkflow.Infer(request, shown, cancel, new Note<EdgeLlm.Profiling.BatchChoice>(c => shown.Pending = $"eval: {c.Note}"));
                }
                Output.Write(new { Protocol = request.Protocol.Name, Predictions = inferred.Run.PredictionsFolder, inferred.Tasks }, asJson, () =>
                {
                    Console.WriteLine($"protocol {request.Protocol.Name}: predictions in {inferred.Run.PredictionsFolder}; score them with --mode eval");
                    foreach (var t in inferred.Tasks)
                        Console.WriteLine($"{t.Task,-11} {t.Selected,6} selected  {t.NewPredictions,6} generated  {t.Skipped,6} already there  {t.SamplesPerSecond,8:F2} samples/s");
                });
                return 0;
            }
            EvaluationOutcome outcome;
            using (var printer = ProgressPrinter.Start())
            {
                var shown = new EvalProgress(printer);
                outcome = EvaluationWorkflow.Run(request, shown, cancel, new Note<EdgeLlm.Profiling.BatchChoice>(c => shown.Pending = $"eval: {c.Note}"));
            }
            var runDir = outcome.Run;
            if (parse.GetValue(kitCsv) is { } csv) EdgeLlm.Evaluation.Ranking.KitResultsCsv.Write(csv, EdgeLlm.Evaluation.Ranking.KitResultsCsv.FromSummary(outcome.Summary, throughputScore, parse.GetValue(memoryGb)));
            CommonOptions.Record(parse.GetValue(store), db => db.AddOrReplaceRun(StoreAdapters.EvaluationRun(
                StoreAdapters.Identify(request.ModelFolder) with
                {
                    Key = $"eval:{Path.GetFullPath(runDir.Root)}:{request.Shard}",
                    Notes = $"run folder {Path.GetFullPath(runDir.Root)}, shard {request.Shard}, protocol {request.Protocol.Name}, limit {request.Limit?.ToString() ?? "none"}",
                },
                runDir, outcome.Results.Select(r => r.Summary))));
            Output.Write(outcome.Summary, asJson, () =>
            {
                Console.WriteLine($"protocol {outcome.Summary.Protocol} ({outcome.Summary.PromptStyle}{(outcome.Summary.ChatTemplate is { } t ? ", chat template " + t : "")})");
                Console.WriteLine(outcome.ToDataFrame().Select("task", "score", "samples", "new_samples", "samples_per_second").ToText(maxRows: int.MaxValue));
            });
            return 0;
        })));
        return command;
    }

    /// <summary>
    /// Samples done (count, rate, ETA) per task, and the tokens generated for it (count and rate) and the prompt tokens
    /// taken from shared prefixes (of all prompt tokens so far) on lines of their own;
    /// <see cref="Pending"/> (how generation is batched) is printed with the first report, so a run that fails before it
    /// starts generating still ends with its one error line.
    /// </summary>
    private sealed class EvalProgress(ProgressPrinter printer) : IProgress<EvaluationProgress>
    {
        public string? Pending { get; set; }

        public void Report(EvaluationProgress p)
        {
            if (Pending is { } note) { Console.Error.WriteLine(note); Pending = null; }
            printer.Report(p.Task, p.Done, p.Total, "samples");
            if (p.GeneratedTokens > 0) printer.Report(p.Task + " generated", p.GeneratedTokens, 0, "tokens");
            if (p.SharedPromptTokens > 0) printer.Report(p.Task + " prompt tokens from shared prefixes", p.SharedPromptTokens, p.PromptTokens + p.SharedPromptTokens, "tokens");
        }
    }

    private sealed class Note<T>(Action<T> write) : IProgress<T> { public void Report(T value) => write(value); }
}
