using System.CommandLine;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Calibration;
using EdgeLlm.Inference;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Cli.Commands;

internal static class PerplexityCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var data = new Option<string>("--data") { Description = "Validation text (C4 validation shard, .json.gz or JSON lines).", Required = true };
        var docs = new Option<int>("--docs") { Description = "Use at most the first N documents.", DefaultValueFactory = _ => 1100 };
        var seqlen = new Option<int>("--seqlen") { Description = "Tokens per window.", DefaultValueFactory = _ => 2048 };
        var windows = new Option<int>("--windows") { Description = "Score at most this many windows.", DefaultValueFactory = _ => 256 };
        var quiet = new Option<bool>("--quiet") { Description = "No progress on stderr." };
        var dataset = new Option<string?>("--dataset") { Description = "Data set name for the results store (default: the --data file name without extensions)." };
        var store = CommonOptions.Store();
        var device = CommonOptions.Device();
        var json = CommonOptions.Json();
        var command = new Command("perplexity", "Perplexity on non-overlapping windows of the first documents (EOS between documents).") { model, data, docs, seqlen, windows, quiet, dataset, device, store, json };
        command.SetAction((parse, token) => Task.FromResult(Output.Guard(() =>
        {
            CommonOptions.CheckStore(parse.GetValue(store));
            string dir = CommonOptions.ResolveModel(parse.GetValue(model)!);
            using var lm = CausalLM.Load(dir, CommonOptions.Engine(parse.GetValue(device)!));
            var texts = TextDocuments.ReadC4(parse.GetValue(data)!, parse.GetValue(docs));
            var w = Perplexity.Windows(texts, Tokenizers.Load(dir), parse.GetValue(seqlen), parse.GetValue(windows), token);
            PerplexityResult result;
            using (var printer = ProgressPrinter.Start(parse.GetValue(quiet)))
                result = Perplexity.Evaluate(lm, w, printer.For<CalibrationProgress>(p => ("perplexity", p.SamplesDone, p.SamplesTotal), "windows"), token);
            var name = parse.GetValue(dataset) ?? StoreAdapters.DatasetName(parse.GetValue(data)!);
            CommonOptions.Record(parse.GetValue(store), db => db.AddRun(new RunRecord(StoreAdapters.Identify(dir))
                { Machine = MachineInfo.Current(), Perplexities = [StoreAdapters.Perplexity(name, result)] }));
            Output.Write(new { result.Perplexity, Windows = w.Count, result.SeqLength, result.Tokens, Parameters = lm.Checkpoint.ParameterCount },
                parse.GetValue(json), () => Console.WriteLine($"perplexity {result.Perplexity:F4} over {w.Count} windows of {result.SeqLength} tokens ({lm.Checkpoint.ParameterCount:N0} parameters)"));
            return 0;
        })));
        return command;
    }
}
