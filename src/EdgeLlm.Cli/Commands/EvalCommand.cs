using System.CommandLine;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Evaluation;
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
        var command = new Command("eval", "Score a model on the challenge's OpenCompass tasks.") { model, tasks, limit, shard, outDir, data, batch, maxSeq, store, json };
        command.SetAction((parse, cancel) => Task.FromResult(Output.Guard(() =>
        {
            var dir = CommonOptions.ResolveModel(parse.GetValue(model)!);
            var datasets = parse.GetValue(data) ?? Environment.GetEnvironmentVariable("EDGELLM_DATASETS") ?? Path.Combine("..", "shared", "datasets");
            var names = parse.GetValue(tasks)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var selected = names.Select(n => TaskCatalog.Create(n, datasets, parse.GetValue(maxSeq))).ToList();
            var tokenizerFile = Path.Combine(dir, "tokenizer.json");
            if (!File.Exists(tokenizerFile)) throw new FileNotFoundException($"{dir} has no tokenizer.json; evaluation needs a tokenizer.");
            using var lm = CausalLM.Load(dir);
            var runDir = new RunDirectory(parse.GetValue(outDir)!);
            var runner = new EvaluationRunner(new EngineEvaluationModel(lm, Tokenizers.Load(tokenizerFile)), runDir);
            var options = new RunOptions(parse.GetValue(limit), Shard.Parse(parse.GetValue(shard)!), parse.GetValue(batch));
            bool asJson = parse.GetValue(json);
            List<TaskRunResult> results;
            using (var printer = ProgressPrinter.Start())
            {
                var progress = printer.For<EvaluationProgress>(p => (p.Task, p.Done, p.Total), "samples");
                results = selected.Select(t => runner.Run(t, options, progress, cancel)).ToList();
            }
            var summary = new
            {
                Model = dir, Shard = options.Shard!.ToString(), options.Limit,
                Tasks = results.ToDictionary(r => r.Summary.Task, r => new
                {
                    r.Summary.Score, r.Summary.Samples, r.Summary.Subsets, r.Summary.Metrics, r.NewSamples, r.Skipped, r.SamplesPerSecond,
                }),
            };
            runDir.WriteSummary(summary);
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
