using System.Text.Json.Nodes;
using EdgeLlm.Analysis.Charts;
using EdgeLlm.Analysis.Display;
using EdgeLlm.Checkpoints;
using FSharp.Compiler.Interactive;
using FsiValue = FSharp.Compiler.Interactive.Shell.FsiValue;
using Microsoft.FSharp.Core;

namespace EdgeLlm.Cli.Notebooks;

/// <summary>What a notebook run did: cells run, the first failing cell (if any), and where the executed copy went.</summary>
internal sealed record NotebookRunResult(string Input, string Output, int CellsRun, int? FailedCell, string? Error, double Seconds);

/// <summary>
/// Runs a notebook's F# code cells top to bottom in one F# Interactive session (FSharp.Compiler.Service, in this
/// process, with EdgeLlm referenced), like papermill: stdout becomes a stream output, <c>display x</c> a
/// display_data output, the cell's last value an execute_result (HTML and plain text through EdgeLlm's formatters),
/// and a failure an error output that stops the run. The executed notebook is written atomically.
/// </summary>
internal static class NotebookRunner
{
    public static NotebookRunResult Run(string input, string output, IProgress<string>? progress = null, TimeSpan? cellTimeout = null)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var notebook = NotebookDocument.Load(input);
        var previousDir = Environment.CurrentDirectory;
        var previousOut = Console.Out;
        var previousErr = Console.Error;
        int count = 0; int? failed = null; string? error = null;
        Environment.CurrentDirectory = Path.GetDirectoryName(Path.GetFullPath(input))!;
        try
        {
            using var session = CreateSession();
            Evaluate(session, Prelude, out _);
            foreach (var cell in notebook.Cells)
            {
                if (cell["cell_type"]?.GetValue<string>() != "code") continue;
                var outputs = new JsonArray();
                cell["outputs"] = outputs;
                cell["execution_count"] = null;
                if (failed is not null) continue;
                var language = notebook.Language(cell);
                count++;
                cell["execution_count"] = count;
                progress?.Report($"cell {count}");
                if (language != "fsharp")
                {
                    failed = count; error = $"cell {count} is in '{language}'; only F# cells can run";
                    outputs.Add(NotebookDocument.Error("UnsupportedLanguage", error, [error]));
                    continue;
                }
                var stdout = new StringWriter();
                void Flush() { var s = stdout.ToString(); if (s.Length > 0) outputs.Add(NotebookDocument.Stream("stdout", s)); stdout.GetStringBuilder().Clear(); }
                Console.SetOut(stdout); Console.SetError(stdout);
                FsiValue? value; string? message;
                using (NotebookDisplay.Capture(v => { Flush(); outputs.Add(Data("display_data", v, null)); }))
                    message = Evaluate(session, NotebookDocument.Source(cell), out value);
                Console.SetOut(previousOut); Console.SetError(previousErr);
                Flush();
                if (message is not null)
                {
                    failed = count; error = $"cell {count}: {message}";
                    outputs.Add(NotebookDocument.Error("FsiError", message.Split('\n')[0], message.Split('\n')));
                }
                else if (value is { ReflectionValue: var v } && value.ReflectionType != typeof(Unit) && v is not null)
                    outputs.Add(Data("execute_result", v, count));
            }
        }
        finally
        {
            Console.SetOut(previousOut); Console.SetError(previousErr);
            Environment.CurrentDirectory = previousDir;
        }
        AtomicFile.WriteAllText(output, notebook.ToJson());
        return new NotebookRunResult(input, output, count, failed, error, started.Elapsed.TotalSeconds);
    }

    /// <summary>A display or result output: HTML and text through EdgeLlm's formatters; a figure also as PNG.</summary>
    private static JsonObject Data(string outputType, object? value, int? count)
    {
        if (value is not PlotlyFigure figure) return NotebookDocument.Data(outputType, Rich.Html(value), Rich.Text(value), count);
        var png = Png(figure);
        return NotebookDocument.Data(outputType, figure.ToNotebookHtml(png), Rich.Text(value), count, png);
    }

    /// <summary>
    /// The figure as PNG (headless Chromium, as <c>results figures --images</c>), so viewers without JavaScript show it;
    /// null where Chromium is missing or fails, or with EDGELLM_NOTEBOOK_PNG=0.
    /// </summary>
    private static string? Png(PlotlyFigure figure)
    {
        if (Environment.GetEnvironmentVariable("EDGELLM_NOTEBOOK_PNG") == "0") return null;
        try
        {
            var result = FigureRenderer.Render(figure, "png", 900, 460);
            return result.JavaScriptErrors.Count == 0 && result.Image.Length > 0 ? Convert.ToBase64String(result.Image) : null;
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception) { return null; }
    }

    /// <summary>Defined before the first cell: <c>display</c> as in Polyglot Notebooks.</summary>
    private const string Prelude = "let display (value: 'T) = EdgeLlm.Analysis.Display.NotebookDisplay.Show(box value)";

    private static Shell.FsiEvaluationSession CreateSession()
    {
        var config = Shell.FsiEvaluationSession.GetDefaultConfiguration();
        var references = new[] { typeof(EdgeLlm.Analysis.Tables.ResultTable).Assembly.Location, typeof(Microsoft.Data.Sqlite.SqliteConnection).Assembly.Location }
            .Select(r => "-r:" + r);
        string[] argv = ["fsi.exe", "--noninteractive", "--nologo", "--gui-", "--multiemit-", "--optimize+", .. references];
        return Shell.FsiEvaluationSession.Create(config, argv, new StringReader(""), TextWriter.Null, TextWriter.Null, collectible: false, legacyReferenceResolver: null);
    }

    /// <summary>Evaluates code; returns null on success (with the last value) or the error text.</summary>
    private static string? Evaluate(Shell.FsiEvaluationSession session, string code, out FsiValue? value)
    {
        value = null;
        var (result, diagnostics) = session.EvalInteractionNonThrowing(code, CancellationToken.None);
        var errors = diagnostics.Where(d => d.Severity == FSharp.Compiler.Diagnostics.FSharpDiagnosticSeverity.Error)
            .Select(d => $"({d.StartLine},{d.StartColumn}): error FS{d.ErrorNumber:D4}: {d.Message}").ToList();
        if (result.IsChoice2Of2)
        {
            var e = ((FSharpChoice<FSharpOption<FsiValue>, Exception>.Choice2Of2)result).Item;
            var inner = e is System.Reflection.TargetInvocationException { InnerException: { } ie } ? ie : e;
            return errors.Count > 0 ? string.Join("\n", errors) : $"{inner.GetType().Name}: {inner.Message}\n{inner.StackTrace}";
        }
        if (errors.Count > 0) return string.Join("\n", errors);
        var option = ((FSharpChoice<FSharpOption<FsiValue>, Exception>.Choice1Of2)result).Item;
        value = FSharpOption<FsiValue>.get_IsSome(option) ? option.Value : null;
        return null;
    }
}
