using System.CommandLine;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Profiling.Phone;

namespace EdgeLlm.Cli.Commands;

internal static class PhoneCommand
{
    public static Command Create()
    {
        var phone = new Command("phone", "Throughput measured on phones: import MLC-LLM logs, or drive an attached phone through adb.");
        phone.Subcommands.Add(Import());
        phone.Subcommands.Add(Run());
        return phone;
    }

    private static Option<string> Jsonl() => new("--jsonl") { DefaultValueFactory = _ => PhoneMeasurementStore.DefaultPath, Description = "JSON-lines file the full records are appended to (always written)." };

    private static Option<string?> Store()
    {
        var store = CommonOptions.Store();
        store.Description += " One run per model and run id (key phone:RUN_ID, replaced on re-import); records without a TPOT are left out.";
        return store;
    }

    private static Option<string> Method() => new("--method") { DefaultValueFactory = _ => "dense", Description = "Pruning method of the model that ran (for the results store)." };
    private static Option<double> Ratio() => new("--ratio") { DefaultValueFactory = _ => 0, Description = "Pruning ratio of the model that ran (for the results store)." };

    /// <summary>Appends to the JSON lines and, with --store, records the runs; returns the store's run ids.</summary>
    private static IReadOnlyList<long> Save(IReadOnlyList<EdgeLlm.Profiling.Phone.PhoneMeasurement> records, string jsonl, string? store, string method, double ratio)
    {
        if (store is not null && store.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--store now names the results database (.db); write JSON lines with --jsonl {store}");
        PhoneMeasurementStore.Append(jsonl, records);
        var ids = new List<long>();
        CommonOptions.Record(store, db =>
        {
            foreach (var run in StoreAdapters.PhoneRuns(records, method, ratio)) ids.Add(db.AddOrReplaceRun(run));
            return ids.LastOrDefault();
        });
        return ids;
    }

    private static Command Import()
    {
        var files = new Argument<string[]>("files") { Arity = ArgumentArity.OneOrMore, Description = "MLC-LLM output, adb logcat captures, or harness CSV/JSON logs." };
        var model = new Option<string>("--model") { Required = true };
        var device = new Option<string>("--device") { Required = true };
        var run = new Option<string?>("--run") { Description = "Run id (default: import time and file name)." };
        var jsonl = Jsonl(); var store = Store(); var method = Method(); var ratio = Ratio();
        var json = CommonOptions.Json();
        var command = new Command("import", "Parse phone throughput logs and append tagged records to the JSON lines (and, with --store, the results store).")
            { files, model, device, run, jsonl, store, method, ratio, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            var now = DateTimeOffset.UtcNow;
            // Parse every file before writing anything: one bad file leaves the store untouched.
            var records = PhoneThroughputScore.Attach(parse.GetValue(files)!.SelectMany(f => PhoneLogImporter.Import(f, parse.GetValue(model)!, parse.GetValue(device)!, parse.GetValue(run), now)).ToList());
            var scores = PhoneThroughputScore.ByRun(records);
            var path = parse.GetValue(jsonl)!;
            var runIds = Save(records, path, parse.GetValue(store), parse.GetValue(method)!, parse.GetValue(ratio));
            Output.Write(new { Jsonl = Path.GetFullPath(path), Imported = records.Count, RunIds = runIds, ThroughputDefinition = PhoneThroughputScore.Definition, ThroughputScores = scores, Records = records }, parse.GetValue(json), () =>
            {
                foreach (var r in records)
                    Console.WriteLine($"{Path.GetFileName(r.SourceFile)}:{r.SourceLine} prefill {r.PrefillTokensPerSecond?.ToString("F1") ?? "—"} tok/s, decode {r.DecodeTokensPerSecond?.ToString("F1") ?? "—"} tok/s, TPOT {r.TpotMs?.ToString("F1") ?? "—"} ms ({r.TpotBasis})");
                foreach (var (id, s) in scores)
                    Console.WriteLine($"run {id}: throughput score {s.Score:F2} (prefill {s.MeanPrefillTokensPerSecond:F2}, decode {s.MeanDecodeTokensPerSecond:F2} tok/s; {s.PromptLengths} prompt length(s), {s.Measurements} measurement(s)) — {PhoneThroughputScore.Definition}");
                if (scores.Count == 0) Console.WriteLine("no throughput score: no measurement has both a prefill and a decode rate");
                Console.WriteLine($"appended {records.Count} record(s) to {path}");
            });
            return 0;
        }));
        return command;
    }

    private static Command Run()
    {
        var exec = new Option<string>("--exec") { Required = true, Description = "Shell command to run on the phone (e.g. an MLC-LLM CLI invocation that prints its stats)." };
        var model = new Option<string>("--model") { Required = true };
        var device = new Option<string>("--device") { Required = true };
        var serial = new Option<string?>("--serial");
        var captures = new Option<string>("--captures") { DefaultValueFactory = _ => "results/phone-captures" };
        var noLogcat = new Option<bool>("--no-logcat");
        var jsonl = Jsonl(); var store = Store(); var method = Method(); var ratio = Ratio();
        var json = CommonOptions.Json();
        var command = new Command("run", "Run a benchmark command on the attached phone via adb and collect the statistics it prints.")
            { exec, model, device, serial, captures, noLogcat, jsonl, store, method, ratio, json };
        command.SetAction((parse, ct) => Task.FromResult(Output.Guard(() =>
        {
            var records = PhoneRunner.Run(parse.GetValue(exec)!, parse.GetValue(model)!, parse.GetValue(device)!, parse.GetValue(captures)!,
                parse.GetValue(serial), !parse.GetValue(noLogcat), ct);
            var runIds = Save(records, parse.GetValue(jsonl)!, parse.GetValue(store), parse.GetValue(method)!, parse.GetValue(ratio));
            Output.Write(new { Jsonl = Path.GetFullPath(parse.GetValue(jsonl)!), RunIds = runIds, Records = records }, parse.GetValue(json), () =>
            {
                foreach (var r in records) Console.WriteLine($"{r.RunId}: decode {r.DecodeTokensPerSecond:F1} tok/s, TPOT {r.TpotMs:F1} ms");
            });
            return 0;
        })));
        return command;
    }
}
