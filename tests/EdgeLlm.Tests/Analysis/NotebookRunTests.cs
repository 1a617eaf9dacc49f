using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Analysis;

/// <summary>Executes every notebook in notebooks/ through <c>edgellm notebook run</c> (this is CI's notebook step)
/// and checks the executed files against nbformat 4's rules for cells and outputs.</summary>
public sealed class NotebookRunTests
{
    public static TheoryData<string> Notebooks() => new(Directory.GetFiles(Path.Combine(SharedData.RepoRoot, "notebooks"), "*.ipynb").Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_runs_top_to_bottom_and_is_valid_nbformat(string name)
    {
        var output = Path.Combine(Path.GetTempPath(), $"edgellm-executed-{Guid.NewGuid():N}.ipynb");
        var (code, text) = Cli("notebook", "run", Path.Combine(SharedData.RepoRoot, "notebooks", name), "--out", output);
        Assert.True(code == 0, text);
        var nb = JsonNode.Parse(File.ReadAllText(output))!.AsObject();
        Assert.Equal(4, nb["nbformat"]!.GetValue<int>());
        Assert.NotNull(nb["metadata"]);
        int count = 0;
        foreach (var cell in nb["cells"]!.AsArray().Select(c => c!.AsObject()))
        {
            Assert.NotNull(cell["source"]); Assert.NotNull(cell["metadata"]);
            if (cell["cell_type"]!.GetValue<string>() != "code") { Assert.Null(cell["outputs"]); continue; }
            Assert.Equal(++count, cell["execution_count"]!.GetValue<int>());
            foreach (var o in cell["outputs"]!.AsArray().Select(o => o!.AsObject()))
            {
                var type = o["output_type"]!.GetValue<string>();
                Assert.NotEqual("error", type);
                var keys = o.Select(kv => kv.Key).Order().ToArray();
                string[] expected = type switch
                {
                    "stream" => ["name", "output_type", "text"],
                    "display_data" => ["data", "metadata", "output_type"],
                    "execute_result" => ["data", "execution_count", "metadata", "output_type"],
                    _ => throw new Xunit.Sdk.XunitException($"unexpected output type {type}"),
                };
                Assert.Equal(expected, keys);
                if (type != "stream") Assert.NotNull(o["data"]!["text/plain"]);
                // Figures also carry a PNG (rendered by headless Chromium, which CI installs) for viewers without JavaScript.
                if (type != "stream" && string.Concat(o["data"]!["text/plain"]!.AsArray().Select(l => l!.GetValue<string>())).StartsWith("Plotly figure") && HasChromium)
                    Assert.Equal("iVBORw0KGgo", o["data"]!["image/png"]!.GetValue<string>()[..11]); // base64 of the PNG signature
            }
        }
        Assert.True(count > 0);
        File.Delete(output);
    }

    [Fact]
    public void A_failing_cell_stops_the_run_with_an_error_output()
    {
        var input = Path.Combine(Path.GetTempPath(), $"edgellm-failing-{Guid.NewGuid():N}.ipynb");
        File.WriteAllText(input, """
            {"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[
             {"cell_type":"code","id":"a","metadata":{},"execution_count":null,"outputs":[],"source":["let x = 1 + 1\n","x"]},
             {"cell_type":"code","id":"b","metadata":{},"execution_count":null,"outputs":[],"source":"(failwith \"boom\" : int)"},
             {"cell_type":"code","id":"c","metadata":{},"execution_count":null,"outputs":[],"source":"printfn \"never\""}]}
            """);
        var (code, _) = Cli("notebook", "run", input);
        Assert.Equal(1, code);
        var cells = JsonNode.Parse(File.ReadAllText(input))!["cells"]!.AsArray();
        Assert.Equal("2", string.Concat(cells[0]!["outputs"]![0]!["data"]!["text/plain"]!.AsArray().Select(l => l!.GetValue<string>())));
        Assert.Equal("error", cells[1]!["outputs"]![0]!["output_type"]!.GetValue<string>());
        Assert.Contains("boom", cells[1]!["outputs"]![0]!["evalue"]!.GetValue<string>());
        Assert.Empty(cells[2]!["outputs"]!.AsArray());
        File.Delete(input);
    }

    private static bool HasChromium
    {
        get { try { EdgeLlm.Analysis.Charts.FigureRenderer.LocateChromium(); return true; } catch (FileNotFoundException) { return false; } }
    }

    internal static (int Code, string Output) Cli(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "EdgeLlm.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }
}
