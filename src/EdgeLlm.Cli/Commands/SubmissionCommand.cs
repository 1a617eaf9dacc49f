using System.CommandLine;
using EdgeLlm.Analysis.Store;

namespace EdgeLlm.Cli.Commands;

/// <summary><c>edgellm submission --store FILE --run ID --out DIR [--model DIR]</c>: the challenge submission from one run.</summary>
internal static class SubmissionCommand
{
    public static Command Create()
    {
        var store = new Option<FileInfo>("--store") { Required = true, Description = "Results store (.db)" };
        var run = new Option<long>("--run") { Required = true, Description = "Run id in the store" };
        var output = new Option<DirectoryInfo>("--out") { Required = true, Description = "Folder for results.csv and submission.json" };
        var model = new Option<DirectoryInfo?>("--model") { Description = "Model folder whose files are listed" };
        var json = new Option<bool>("--json");
        var command = new Command("submission", "Build the challenge submission (results CSV, parameter count, model files) from a results store") { store, run, output, model, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            var path = parse.GetValue(store)!.FullName;
            if (!File.Exists(path)) throw new FileNotFoundException($"results store '{path}' does not exist");
            using var db = ResultsStore.Open(path);
            var result = Submission.Write(db, parse.GetValue(run), parse.GetValue(output)!.FullName, parse.GetValue(model)?.FullName);
            Output.Write(result, parse.GetValue(json), () =>
                Console.WriteLine($"wrote {result.ResultsCsv} and {result.ManifestJson} ({result.ModelFiles.Count} model files, {result.Parameters?.ToString() ?? "unknown"} parameters)"));
            return 0;
        }));
        return command;
    }
}
