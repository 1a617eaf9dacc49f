using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;
using EdgeLlm.Analysis.Charts;
using EdgeLlm.Analysis.Display;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Analysis.Tables;
using Microsoft.Data.Analysis;
using Microsoft.DotNet.Interactive.Formatting;

namespace EdgeLlm.Tests.Analysis;

[Collection("Formatter")]
public sealed class FigureAndDisplayTests
{
    private static ResultsStore FilledStore(string dir)
    {
        var store = ResultsStore.Open(Path.Combine(dir, "r.db"));
        foreach (var (method, ratio) in new[] { ("dense", 0.0), ("wanda", 0.2), ("wanda", 0.5), ("sparsegpt", 0.2), ("sparsegpt", 0.5) })
        {
            long id = store.AddRun(new RunRecord(new RunInfo("phi-2", method, ratio) { ParametersBefore = 2_700_000_000, ParametersAfter = (long)(2.7e9 * (1 - ratio)) })
            {
                Scores = [new TaskScore("gsm8k", "accuracy", 0.6 - ratio / 2, 100), new TaskScore("bbh", "accuracy", 0.5 - ratio / 3, 100), new TaskScore("chid", "accuracy", 0.7 - ratio, 100)],
                Perplexities = [new PerplexityRecord("c4", 10 + 30 * ratio * ratio, 4096), new PerplexityRecord("wikitext2", 8 + 25 * ratio, 4096)],
                Throughput = [new ThroughputRecord(128, 64, 1, 120 * (1 - ratio), 8, 100)],
                Phone = [new PhoneRecord("pixel-8", "mlc-llm", 300 * (1 - ratio), 50, 3, 6_000_000_000)],
            });
        }
        return store;
    }

    [Fact]
    public void Every_paper_figure_renders_in_headless_chromium_without_javascript_errors()
    {
        var dir = Directory.CreateTempSubdirectory("edgellm-fig-").FullName;
        using var store = FilledStore(dir);
        var figures = PaperFigures.All(store);
        Assert.Equal(["accuracy_vs_sparsity", "task_bars", "task_radar", "perplexity_vs_ratio", "tpot_vs_parameters", "phone_vs_local"], figures.Keys);
        foreach (var (name, figure) in figures)
        {
            var png = FigureRenderer.Render(figure, "png");
            Assert.True(png.JavaScriptErrors.Count == 0, name + ": " + string.Join("; ", png.JavaScriptErrors));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png.Image[..4]);
            Assert.True(png.TracesDrawn > 0, name + " drew no traces");
        }
        var svg = FigureRenderer.Render(figures["accuracy_vs_sparsity"], "svg");
        var root = System.Xml.Linq.XDocument.Parse(System.Text.Encoding.UTF8.GetString(svg.Image)).Root!;
        Assert.Equal("svg", root.Name.LocalName);
        Assert.Contains("Accuracy vs. sparsity", root.ToString());
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Faceted_chart_puts_one_subplot_per_facet_and_one_trace_per_colour()
    {
        var table = new DataFrame(new StringDataFrameColumn("method", ["a", "b", "a", "a"]), new StringDataFrameColumn("task", ["t1", "t1", "t2", "t2"]),
            new DoubleDataFrameColumn("ratio", [0.1, 0.1, 0.3, 0.1]), new DoubleDataFrameColumn("score", [1.0, 2.0, 4.0, 3.0]));
        var fig = JsonNode.Parse(Charts.Line(table, "ratio", "score", "method", "task").ToJson())!;
        var data = fig["data"]!.AsArray();
        Assert.Equal(3, data.Count);
        Assert.Equal("x2", data[2]!["xaxis"]!.GetValue<string>());
        Assert.Equal([0.1, 0.3], data[2]!["x"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.NotNull(fig["layout"]!["xaxis2"]!["domain"]);
    }

    [Fact]
    public void Offline_html_embeds_plotly_and_the_figure()
    {
        var html = new PlotlyFigure("t</script>x").AddTrace(new JsonObject { ["type"] = "bar", ["x"] = new JsonArray("a"), ["y"] = new JsonArray(1) }).ToHtml();
        Assert.Contains(PlotlyJs.Source()[..200], html);
        Assert.DoesNotContain("http://", html.Replace(PlotlyJs.Source(), ""));
        Assert.DoesNotContain("t</script>x", html); // the title cannot close the script element early
        Assert.Contains("t&lt;/script&gt;x", html);
    }

    [Fact]
    public void Dotnet_interactive_formatter_shows_edgellm_values_through_NotebookFormats()
    {
        // What the package's extension.dib does in the kernel, here against the Microsoft.DotNet.Interactive.Formatting package.
        NotebookFormats.RegisterWith((type, mimeType, render) => Formatter.Register(type, (value, context) =>
        {
            var text = render(value);
            if (text is null) return false;
            context.Writer.Write(text);
            return true;
        }, mimeType), Formatter.SetPreferredMimeTypesFor);
        try
        {
            var frame = new DataFrame(new StringDataFrameColumn("method", ["l1", "flap"]), new DoubleDataFrameColumn("ppl", [12.5, 9.25]));
            Assert.Equal(["text/html", "text/plain"], Formatter.GetPreferredMimeTypesFor(typeof(DataFrame)));
            Assert.Equal(frame.ToHtml(), frame.ToDisplayString("text/html"));
            Assert.Equal(frame.ToText(), frame.ToDisplayString("text/plain"));

            // An interface registration reaches the implementation the kernel actually sees.
            var tokenizer = EdgeLlm.Tokenization.Tokenizers.Load(Path.Combine(EdgeLlm.Tests.Support.SharedData.RepoRoot, "data", "demo-model"));
            var card = tokenizer.ToDisplayString("text/html");
            Assert.StartsWith("<div class=\"edgellm-card\"><b>Tokenizer ", card);
            Assert.Contains($"<td>{tokenizer.VocabSize}</td>", card);
            Assert.True(card.Length < 2_000, $"{card.Length} characters");

            var figure = new PlotlyFigure("t").AddTrace(new JsonObject { ["type"] = "bar", ["x"] = new JsonArray("a"), ["y"] = new JsonArray(1) });
            Assert.Equal(["image/png", NotebookFormats.PlotlyMimeType, "text/plain"], Formatter.GetPreferredMimeTypesFor(typeof(PlotlyFigure)));
            Assert.Equal(figure.ToJson(), figure.ToDisplayString(NotebookFormats.PlotlyMimeType));
            var png = Convert.FromBase64String(figure.ToDisplayString("image/png"));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        }
        finally { Formatter.ResetToDefault(); }
    }

    [Fact]
    public void Table_html_escapes_values()
    {
        var table = new DataFrame(new StringDataFrameColumn("name", ["<b>x</b>"]));
        Assert.Contains("&lt;b&gt;x&lt;/b&gt;", Rich.Html(table));
        Assert.Contains("<b>x</b>", Rich.Text(table));
    }
}
