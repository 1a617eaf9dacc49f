using System.CommandLine;
using EdgeLlm.Analysis.Notebooks;

namespace EdgeLlm.Cli.Commands;

/// <summary><c>edgellm notebook run IN.ipynb --out OUT.ipynb</c>: executes a notebook in the .NET Interactive kernel through Jupyter.</summary>
internal static class NotebookCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("notebook") { Description = "The .ipynb to run" };
        var output = new Option<FileInfo?>("--out") { Description = "Where to write the executed notebook (default: overwrite the input)" };
        var kernel = new Option<string>("--kernel") { Description = "Jupyter kernel name", DefaultValueFactory = _ => ".net-fsharp" };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object" };
        var run = new Command("run", "Execute every cell with jupyter nbconvert in the .NET Interactive kernel (scripts/setup.sh installs both) and write the executed .ipynb") { input, output, kernel, json };
        run.SetAction(parse => Output.Guard(() =>
        {
            var source = parse.GetValue(input)!.FullName;
            var result = NotebookExecutor.Run(source, parse.GetValue(output)?.FullName ?? source, parse.GetValue(kernel)!);
            Output.Write(result, parse.GetValue(json), () =>
            {
                Console.WriteLine($"{Path.GetFileName(source)}: {result.CodeCells} code cells ran in {result.Seconds:F1} s, {result.Errors.Count} raised → {result.Output}");
                foreach (var e in result.Errors) Console.Error.WriteLine($"  cell {e.Cell}: {e.Name}: {e.Message.Split('\n')[0]}");
            });
            return result.Succeeded ? 0 : 1;
        }));
        var command = new Command("notebook", "Run notebooks headlessly in the real .NET Interactive kernel (like papermill)");
        command.Subcommands.Add(run);
        return command;
    }
}
