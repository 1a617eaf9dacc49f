using System.CommandLine;
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

    private static Option<string> Store() => new("--store") { DefaultValueFactory = _ => PhoneMeasurementStore.DefaultPath, Description = "JSON-lines file the records are appended to." };

    private static Command Import()
    {
        var files = new Argument<string[]>("files") { Arity = ArgumentArity.OneOrMore, Description = "MLC-LLM output, adb logcat captures, or harness CSV/JSON logs." };
        var model = new Option<string>("--model") { Required = true };
        var device = new Option<string>("--device") { Required = true };
        var run = new Option<string?>("--run") { Description = "Run id (default: import time and file name)." };
        var store = Store();
        var json = CommonOptions.Json();
        var command = new Command("import", "Parse phone throughput logs and append tagged records to the store.") { files, model, device, run, store, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            var now = DateTimeOffset.UtcNow;
            // Parse every file before writing anything: one bad file leaves the store untouched.
            var records = parse.GetValue(files)!.SelectMany(f => PhoneLogImporter.Import(f, parse.GetValue(model)!, parse.GetValue(device)!, parse.GetValue(run), now)).ToList();
            var path = parse.GetValue(store)!;
            PhoneMeasurementStore.Append(path, records);
            Output.Write(new { Store = Path.GetFullPath(path), Imported = records.Count, Records = records }, parse.GetValue(json), () =>
            {
                foreach (var r in records)
                    Console.WriteLine($"{Path.GetFileName(r.SourceFile)}:{r.SourceLine} prefill {r.PrefillTokensPerSecond?.ToString("F1") ?? "—"} tok/s, decode {r.DecodeTokensPerSecond?.ToString("F1") ?? "—"} tok/s, TPOT {r.TpotMs?.ToString("F1") ?? "—"} ms ({r.TpotBasis})");
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
        var store = Store();
        var json = CommonOptions.Json();
        var command = new Command("run", "Run a benchmark command on the attached phone via adb and collect the statistics it prints.")
            { exec, model, device, serial, captures, noLogcat, store, json };
        command.SetAction((parse, ct) => Task.FromResult(Output.Guard(() =>
        {
            var records = PhoneRunner.Run(parse.GetValue(exec)!, parse.GetValue(model)!, parse.GetValue(device)!, parse.GetValue(captures)!,
                parse.GetValue(serial), !parse.GetValue(noLogcat), ct);
            PhoneMeasurementStore.Append(parse.GetValue(store)!, records);
            Output.Write(new { Store = Path.GetFullPath(parse.GetValue(store)!), Records = records }, parse.GetValue(json), () =>
            {
                foreach (var r in records) Console.WriteLine($"{r.RunId}: decode {r.DecodeTokensPerSecond:F1} tok/s, TPOT {r.TpotMs:F1} ms");
            });
            return 0;
        })));
        return command;
    }
}
