using System.CommandLine;
using EdgeLlm.Cli.Notebooks;

namespace EdgeLlm.Cli.Commands;

/// <summary><c>edgellm notebook run IN.ipynb --out OUT.ipynb</c>: executes a notebook headlessly and writes the executed copy.</summary>
internal static class NotebookCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("notebook") { Description = "The .ipynb to run (F# cells)" };
        var output = new Option<FileInfo?>("--out") { Description = "Where to write the executed notebook (default: overwrite the input)" };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object" };
        var run = new Command("run", "Execute every code cell through F# Interactive and write the executed .ipynb") { input, output, json };
        run.SetAction(parse => Output.Guard(() =>
        {
            var source = parse.GetValue(input)!.FullName;
            var target = parse.GetValue(output)?.FullName ?? source;
            var stderr = Console.Error; // captured now: cells redirect Console while they run
            var progress = new SyncProgress(message => stderr.WriteLine($"{Path.GetFileName(source)}: {message}"));
            var result = NotebookRunner.Run(source, target, progress);
            Output.Write(result, parse.GetValue(json), () =>
                Console.WriteLine(result.FailedCell is null
                    ? $"{Path.GetFileName(source)}: {result.CellsRun} cells ran in {result.Seconds:F1} s → {target}"
                    : $"{Path.GetFileName(source)}: failed at {result.Error} → {target}"));
            return result.FailedCell is null ? 0 : 1;
        }));
        var command = new Command("notebook", "Run F# notebooks headlessly (like papermill)");
        command.Subcommands.Add(run);
        return command;
    }

    private sealed class SyncProgress(Action<string> report) : IProgress<string> { public void Report(string value) => report(value); }
}
