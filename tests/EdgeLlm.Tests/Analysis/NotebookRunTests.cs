using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Analysis;

/// <summary><c>edgellm notebook run</c> drives the real .NET Interactive kernel through jupyter nbconvert (scripts/setup.sh
/// installs both; CI runs every notebook in notebooks/ with scripts/notebooks.sh and checks them with check_notebooks.py).</summary>
public sealed class NotebookRunTests
{
    [Fact]
    public void A_failing_cell_is_reported_and_every_cell_still_runs_in_the_kernel()
    {
        var dir = Directory.CreateTempSubdirectory("edgellm-nb-").FullName;
        var input = Path.Combine(dir, "failing.ipynb");
        File.WriteAllText(input, """
            {"nbformat":4,"nbformat_minor":5,"metadata":{"kernelspec":{"name":".net-fsharp","display_name":".NET (F#)","language":"F#"}},"cells":[
             {"cell_type":"code","id":"a","metadata":{},"execution_count":null,"outputs":[],"source":["let x = 40 + 2\n","x"]},
             {"cell_type":"code","id":"b","metadata":{},"execution_count":null,"outputs":[],"source":"(failwith \"boom\" : int)"},
             {"cell_type":"code","id":"c","metadata":{},"execution_count":null,"outputs":[],"source":"printfn \"after %d\" x"}]}
            """);
        var output = Path.Combine(dir, "out", "executed.ipynb");
        var (code, text) = Cli("notebook", "run", input, "--out", output, "--json");
        Assert.True(code == 1, text);
        var result = JsonNode.Parse(text.Split('\n').First(l => l.StartsWith('{')))!;
        Assert.Equal(3, result["code_cells"]!.GetValue<int>());
        var error = Assert.Single(result["errors"]!.AsArray());
        Assert.Equal(1, error!["cell"]!.GetValue<int>());
        Assert.Contains("boom", error["message"]!.GetValue<string>());

        var cells = JsonNode.Parse(File.ReadAllText(output))!["cells"]!.AsArray();
        // The kernel's first cell also carries its own display_data (a script that finds the front end); then x.
        var result42 = cells[0]!["outputs"]!.AsArray().Single(o => o!["output_type"]!.GetValue<string>() == "execute_result");
        Assert.StartsWith("<div class=\"dni-plaintext\"><pre>42</pre></div>", Multiline(result42!["data"]!["text/html"]!));
        Assert.Equal("error", cells[1]!["outputs"]![0]!["output_type"]!.GetValue<string>());
        Assert.Equal("after 42\n", Multiline(cells[2]!["outputs"]![0]!["text"]!));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "out"), ".*")); // the temporary name was renamed away
        Directory.Delete(dir, true);
    }

    [Fact]
    public void A_missing_notebook_is_one_line_naming_it()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"edgellm-missing-{Guid.NewGuid():N}.ipynb");
        var (code, text) = Cli("notebook", "run", missing);
        Assert.Equal(1, code);
        Assert.Equal($"edgellm: {missing}: no such notebook", text.Trim());
    }

    /// <summary>nbformat's multiline string: one string or a list of lines.</summary>
    private static string Multiline(JsonNode node) => node is JsonArray lines ? string.Concat(lines.Select(l => l!.GetValue<string>())) : node.GetValue<string>();

    internal static (int Code, string Output) Cli(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "EdgeLlm.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["JUPYTER_PATH"] = Path.Combine(SharedData.RepoRoot, "tools", "jupyter");
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }
}
