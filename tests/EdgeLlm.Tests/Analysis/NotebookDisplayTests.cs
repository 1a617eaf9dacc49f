using System.Text.Json.Nodes;
using EdgeLlm.Analysis.Charts;
using EdgeLlm.Analysis.Display;
using EdgeLlm.Analysis.Tables;
using EdgeLlm.Checkpoints;
using EdgeLlm.Evaluation.Workflows;
using EdgeLlm.Inference;
using EdgeLlm.Profiling;
using EdgeLlm.Pruning;
using EdgeLlm.Tests.Support;
using Microsoft.Data.Analysis;
using Microsoft.DotNet.Interactive.Formatting;

namespace EdgeLlm.Tests.Analysis;

/// <summary>
/// Every public type a notebook shows reaches .NET Interactive's Formatter through <see cref="NotebookFormats"/> (what the
/// package's extension.dib registers): compact EdgeLlm text/html and text/plain, figures as PNG plus Plotly JSON.
/// </summary>
[Collection("Formatter")]
public sealed class NotebookDisplayTests : IDisposable
{
    private const int MaxOutput = 100_000;
    private static string Demo => Path.Combine(SharedData.RepoRoot, "data", "demo-model");
    private readonly string dir = Directory.CreateTempSubdirectory("edgellm-display-").FullName;

    public NotebookDisplayTests() => NotebookFormats.RegisterWith((type, mimeType, render) => Formatter.Register(type, (value, context) =>
    {
        var text = render(value);
        if (text is null) return false;
        context.Writer.Write(text);
        return true;
    }, mimeType), Formatter.SetPreferredMimeTypesFor);

    public void Dispose()
    {
        Formatter.ResetToDefault();
        Directory.Delete(dir, true);
    }

    /// <summary>Both outputs are EdgeLlm's (a card or a table, not .NET Interactive's default object dump) and small.</summary>
    private static (string Html, string Text) Shown(object value)
    {
        var html = value.ToDisplayString("text/html");
        var text = value.ToDisplayString("text/plain");
        Assert.True(html.StartsWith("<div class=\"edgellm-card\">") || html.StartsWith("<table class=\"edgellm-table\">"), $"{value.GetType().Name}: {html[..Math.Min(200, html.Length)]}");
        Assert.True(html.Length < MaxOutput && text.Length < MaxOutput, $"{value.GetType().Name}: {html.Length} / {text.Length} characters");
        Assert.Equal(Rich.Text(value), text);
        return (html, text);
    }

    [Fact]
    public void Model_tokenizer_benchmark_memory_and_plan_show_as_compact_cards()
    {
        using var model = CausalLM.Load(Demo);
        var (html, text) = Shown(model);
        Assert.Contains($"<td>{model.Config.ArchitectureName}</td>", html);
        Assert.Contains($"{model.Config.NumHeads} / {model.Config.NumKvHeads}", text);

        Shown(EdgeLlm.Tokenization.Tokenizers.Load(Demo));

        var bench = ThroughputBenchmark.Run(model, new BenchmarkOptions { PromptTokens = 4, NewTokens = 2, Repeats = 1, Warmup = 0, BandwidthProbeBytes = 0 },
            new MachineLimits(10, 10, 1, "assumed"));
        (html, _) = Shown(bench);
        Assert.Contains($"{bench.TpotMs:F2} ms", html);

        var report = MemoryWorkflow.Predict("phi-2", new MemoryQuery { Context = 4096, Device = DeviceProfile.Resolve("phone-12gb"), Runtime = RuntimeProfile.Resolve("mlc-llm-android") });
        (html, _) = Shown(report.Prediction);
        Assert.Contains(Rich.Bytes(report.Prediction.TotalBytes), html);
        // A report is its card, then its parts as a table.
        (html, text) = Shown(report);
        Assert.Contains("<table class=\"edgellm-table\">", html);
        Assert.Contains(report.ToDataFrame().ToText(), text);

        var plan = StructuredPruner.Plan(model.Checkpoint, PruningMethod.L1, 0.5);
        (html, _) = Shown(plan);
        Assert.Contains($"{plan.KeptChannels[0].Length} in each of {plan.KeptChannels.Length} layers", html);
    }

    [Fact]
    public void An_evaluation_summary_is_a_card_then_one_row_per_task()
    {
        var summary = new EvaluationSummary("llama-pydoc", "fp", "edge-llm-2024", "chat", null, ["\n\n"], "1/1", 2, new Dictionary<string, TaskScores>
        {
            ["csqa"] = new("commonsenseqa_7shot_cot_gen_734a22", 50, 2, new Dictionary<string, double>(), new Dictionary<string, double>(), 2, 0, 1.25),
            ["gsm8k"] = new("gsm8k_gen_1d7fe4", 0, 2, new Dictionary<string, double>(), new Dictionary<string, double>(), 0, 2, 0),
        });
        var (html, text) = Shown(summary);
        Assert.StartsWith("<div class=\"edgellm-card\"><b>Evaluation of llama-pydoc</b>", html);
        Assert.Contains("<tr><td>csqa</td><td>commonsenseqa_7shot_cot_gen_734a22</td><td style=\"text-align:right\">50</td><td style=\"text-align:right\">2</td>", html);
        var rows = text.Split(Environment.NewLine).SkipWhile(l => !l.StartsWith("task")).ToList();
        Assert.StartsWith("csqa ", rows[2]);
        Assert.EndsWith("1.25", rows[2]);
        Assert.StartsWith("gsm8k", rows[3]);
    }

    [Fact]
    public void A_prune_outcome_is_a_card_then_each_layers_parameters()
    {
        var outcome = PruneWorkflow.Run(new PruneRequest { Model = Demo, Output = Path.Combine(dir, "l1"), Method = PruningMethod.L1, Ratio = 0.5 });
        var (html, text) = Shown(outcome);
        Assert.Contains($"{Rich.Count(outcome.Result.ParametersBefore)} → {Rich.Count(outcome.Result.ParametersAfter)}", html);
        var layers = outcome.ToDataFrame();
        using var source = Checkpoint.Open(Demo);
        Assert.Equal(source.Config.NumLayers + 1, layers.Rows.Count);
        Assert.Equal(outcome.Result.ParametersAfter, layers.Rows.Sum(r => r.GetLong("parameters_after")));
        Assert.Equal(source.ParameterCount, layers.Rows.Sum(r => r.GetLong("parameters_before")));
        Assert.Contains(layers.ToText(), text);
    }

    [Fact]
    public void Dataframes_and_figures_use_their_own_mime_types()
    {
        var frame = new DataFrame(new StringDataFrameColumn("model", [new string('m', 300)]), new Int64DataFrameColumn("parameters", [2_779_683_840L]));
        var (html, text) = Shown(frame);
        Assert.Contains("2779683840", text);
        Assert.DoesNotContain(new string('m', 201), html);                 // long cells are cut

        var figure = Charts.Bar(frame, "model", "parameters");
        Assert.Equal(["image/png", NotebookFormats.PlotlyMimeType, "text/plain"], Formatter.GetPreferredMimeTypesFor(typeof(PlotlyFigure)));
        Assert.Equal(figure.ToJson(), figure.ToDisplayString(NotebookFormats.PlotlyMimeType));
        Assert.Equal(2_779_683_840L, JsonNode.Parse(figure.ToJson())!["data"]![0]!["y"]![0]!.GetValue<long>());
    }
}
