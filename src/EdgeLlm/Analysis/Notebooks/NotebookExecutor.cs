using System.Diagnostics;
using System.Text.Json.Nodes;

namespace EdgeLlm.Analysis.Notebooks;

/// <summary>What running a notebook gave: code cells, the cells that raised (index and error line), and the time taken.</summary>
public sealed record NotebookRunResult(string Notebook, string Output, int CodeCells, IReadOnlyList<NotebookCellError> Errors, double Seconds)
{
    public bool Succeeded => Errors.Count == 0;
}

public sealed record NotebookCellError(int Cell, string Name, string Message);

/// <summary>
/// Executes a notebook in the real .NET Interactive kernel through Jupyter (<c>jupyter nbconvert --to notebook
/// --execute</c>), as CI does with scripts/notebooks.sh. The kernelspecs scripts/setup.sh installs in the checkout's
/// tools/jupyter are found from the notebook's folder upwards (and JUPYTER_PATH is kept). Every cell runs even
/// after an error, so the executed copy shows all of them; the errors are in the result.
/// </summary>
public static class NotebookExecutor
{
    public static NotebookRunResult Run(string notebook, string output, string kernel = ".net-fsharp", TimeSpan? cellTimeout = null)
    {
        notebook = Path.GetFullPath(notebook);
        output = Path.GetFullPath(output);
        if (!File.Exists(notebook)) throw new FileNotFoundException($"{notebook}: no such notebook");
        var dir = Path.GetDirectoryName(output)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileNameWithoutExtension(output)}.{Guid.NewGuid():N}.ipynb");
        var psi = new ProcessStartInfo("jupyter") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(notebook)! };
        foreach (var a in new[] { "nbconvert", "--to", "notebook", "--execute", "--allow-errors", notebook, "--output-dir", dir, "--output", Path.GetFileName(temp),
                     $"--ExecutePreprocessor.kernel_name={kernel}", $"--ExecutePreprocessor.timeout={(int)(cellTimeout ?? TimeSpan.FromMinutes(10)).TotalSeconds}" })
            psi.ArgumentList.Add(a);
        if (KernelSpecs(Path.GetDirectoryName(notebook)!) is { } specs)
            psi.Environment["JUPYTER_PATH"] = specs + (Environment.GetEnvironmentVariable("JUPYTER_PATH") is { Length: > 0 } p ? ":" + p : "");
        var clock = Stopwatch.StartNew();
        Process process;
        try { process = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e) { throw new InvalidOperationException($"jupyter not found ({e.Message}): run scripts/setup.sh", e); }
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || !File.Exists(temp))
        {
            File.Delete(temp);
            var lines = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            throw new InvalidOperationException($"{notebook}: jupyter nbconvert failed (exit {process.ExitCode}): {lines.LastOrDefault() ?? "no output"}");
        }
        var result = Read(notebook, temp, clock.Elapsed.TotalSeconds);
        File.Move(temp, output, overwrite: true);
        return result with { Output = output };
    }

    /// <summary>The executed notebook's code cells and error outputs.</summary>
    public static NotebookRunResult Read(string notebook, string executed, double seconds)
    {
        var cells = (JsonNode.Parse(File.ReadAllText(executed))?["cells"] as JsonArray)
            ?? throw new FormatException($"{executed}: not a notebook (no cells array)");
        int code = 0;
        var errors = new List<NotebookCellError>();
        for (int i = 0; i < cells.Count; i++)
        {
            if (cells[i]?["cell_type"]?.GetValue<string>() != "code") continue;
            code++;
            foreach (var o in cells[i]!["outputs"] as JsonArray ?? [])
                if (o?["output_type"]?.GetValue<string>() == "error")
                    errors.Add(new NotebookCellError(i, o["ename"]?.GetValue<string>() ?? "", o["evalue"]?.GetValue<string>() ?? ""));
        }
        return new NotebookRunResult(notebook, executed, code, errors, seconds);
    }

    private static string? KernelSpecs(string from)
    {
        for (var d = new DirectoryInfo(from); d is not null; d = d.Parent)
            if (Directory.Exists(Path.Combine(d.FullName, "tools", "jupyter", "kernels"))) return Path.Combine(d.FullName, "tools", "jupyter");
        return null;
    }
}
