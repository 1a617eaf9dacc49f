using System.CommandLine;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Distributed;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Inference;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Cli.Commands;

internal static class EvalCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var tasks = new Option<string>("--tasks") { Description = "Comma-separated: " + string.Join(",", TaskCatalog.Names), DefaultValueFactory = _ => string.Join(",", TaskCatalog.Names) };
        var limit = new Option<int?>("--limit") { Description = "Only the first N samples of each task." };
        var shard = new Option<string>("--shard") { Description = "k/n: this process takes samples i with i mod n = k-1.", DefaultValueFactory = _ => "1/1" };
        var outDir = new Option<string>("--out") { Description = "Run folder (per-task JSON lines + summary.json); rerunning resumes.", Required = true };
        var data = new Option<string>("--data") { Description = "Datasets folder (default: $EDGELLM_DATASETS or ../shared/datasets)." };
        var batch = new Option<int>("--batch-size") { Description = "Prompts generated together.", DefaultValueFactory = _ => 4 };
        var maxSeq = new Option<int>("--max-seq-len") { Description = "Longest prompt for LongBench's middle truncation.", DefaultValueFactory = _ => 2048 };
        var store = CommonOptions.Store();
        store.Description += " The run is keyed by the run folder and shard: rerunning replaces it with the folder's current records.";
        var json = CommonOptions.Json();
        var slurmArray = new Option<int?>("--slurm-array") { Description = "Write an sbatch script whose array task k runs shard k/N into --out (shared storage) instead of running; then `eval merge RUN_DIR`." };
        var slurmOpts = new Option<string?>("--slurm-opts") { Description = "Extra sbatch options for --slurm-array, e.g. \"--partition=gpu --gres=gpu:1 --time=04:00:00\"." };
        var workers = new Option<int?>("--workers") { Description = "Run N worker processes on this machine, each taking shards of the run folder; the summary is computed once at the end." };
        var devices = new Option<string?>("--devices") { Description = "0,1,... or all: one worker process per CUDA device." };
        var command = new Command("eval", "Score a model on the challenge's OpenCompass tasks.")
            { model, tasks, limit, shard, outDir, data, batch, maxSeq, store, json, slurmArray, slurmOpts, workers, devices, EvalDistributed.Merge() };
        command.SetAction((parse, cancel) => Task.FromResult(Output.Guard(() =>
        {
            CommonOptions.CheckStore(parse.GetValue(store));
            var dir = CommonOptions.ResolveModel(parse.GetValue(model)!);
            var datasets = parse.GetValue(data) ?? Environment.GetEnvironmentVariable("EDGELLM_DATASETS") ?? Path.Combine("..", "shared", "datasets");
            var names = parse.GetValue(tasks)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parse.GetValue(slurmArray) is not null || parse.GetValue(workers) is not null || parse.GetValue(devices) is not null)
            {
                if (parse.GetValue(shard) != "1/1") throw new ArgumentException("--shard cannot be combined with --slurm-array, --workers or --devices, which split the run themselves.");
                if (parse.GetValue(slurmArray) is not null && (parse.GetValue(workers) is not null || parse.GetValue(devices) is not null))
                    throw new ArgumentException("--slurm-array writes a script for the cluster; give --workers/--devices on separate runs.");
                if (parse.GetValue(workers) is not null && parse.GetValue(devices) is not null)
                    throw new ArgumentException("--workers and --devices both set the number of workers; give one.");
                var plan = new RunPlan(dir, names, datasets, parse.GetValue(limit), parse.GetValue(slurmArray) ?? 1, parse.GetValue(batch), parse.GetValue(maxSeq)).Normalized();
                if (!File.Exists(Path.Combine(dir, "tokenizer.json"))) throw new FileNotFoundException($"{dir} has no tokenizer.json; evaluation needs a tokenizer.");
                return parse.GetValue(slurmArray) is not null
                    ? EvalDistributed.WriteSlurmArray(plan, parse.GetValue(outDir)!, parse.GetValue(slurmOpts), parse.GetValue(json))
                    : EvalDistributed.RunWorkers(plan, parse.GetValue(outDir)!, parse.GetValue(workers), parse.GetValue(devices), parse.GetValue(store), parse.GetValue(json), cancel);
            }
            var selected = names.Select(n => TaskCatalog.Create(n, datasets, parse.GetValue(maxSeq))).ToList();
            // A folder split by --slurm-array/--workers: its shards must select what its plan says.
            new RunPlan(dir, names, datasets, parse.GetValue(limit), 1, parse.GetValue(batch), parse.GetValue(maxSeq)).Normalized().CheckAgainst(parse.GetValue(outDir)!);
            var tokenizerFile = Path.Combine(dir, "tokenizer.json");
            if (!File.Exists(tokenizerFile)) throw new FileNotFoundException($"{dir} has no tokenizer.json; evaluation needs a tokenizer.");
            using var lm = CausalLM.Load(dir);
            var options = new RunOptions(parse.GetValue(limit), Shard.Parse(parse.GetValue(shard)!), parse.GetValue(batch));
            // A shard of several writes its own record files and summary, so shards may share one folder (eval merge).
            string? writer = options.Shard!.N > 1 ? $"shard-{options.Shard.K}-of-{options.Shard.N}" : null;
            var runDir = new RunDirectory(parse.GetValue(outDir)!, writer);
            var runner = new EvaluationRunner(new EngineEvaluationModel(lm, Tokenizers.Load(tokenizerFile)), runDir);
            bool asJson = parse.GetValue(json);
            var progress = new Progress<EvaluationProgress>(p => Console.Error.WriteLine($"{p.Task}: {p.Done}/{p.Total} ({p.SamplesPerSecond:F2} samples/s)"));
            var results = selected.Select(t => runner.Run(t, options, progress, cancel)).ToList();
            var summary = new
            {
                Model = dir, Shard = options.Shard!.ToString(), options.Limit,
                Tasks = results.ToDictionary(r => r.Summary.Task, r => new
                {
                    r.Summary.Score, r.Summary.Samples, r.Summary.Subsets, r.Summary.Metrics, r.NewSamples, r.Skipped, r.SamplesPerSecond,
                }),
            };
            if (writer is null) runDir.WriteSummary(summary);
            else runDir.WriteJson($"summary.{writer}.json", summary);
            CommonOptions.Record(parse.GetValue(store), db => db.AddOrReplaceRun(StoreAdapters.EvaluationRun(
                StoreAdapters.Identify(dir) with { Key = $"eval:{Path.GetFullPath(runDir.Root)}:{options.Shard}", Notes = $"run folder {Path.GetFullPath(runDir.Root)}, shard {options.Shard}, limit {options.Limit?.ToString() ?? "none"}" },
                runDir, results.Select(r => r.Summary))));
            Output.Write(summary, asJson, () =>
            {
                foreach (var r in results)
                    Console.WriteLine($"{r.Summary.Task,-11} {r.Summary.Score,8:F2}  ({r.Summary.Samples} samples, {r.SamplesPerSecond:F2} samples/s)");
            });
            return 0;
        })));
        return command;
    }
}
