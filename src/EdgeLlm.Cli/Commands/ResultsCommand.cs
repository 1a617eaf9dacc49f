using System.CommandLine;
using System.Text.Json;
using EdgeLlm.Analysis.Charts;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Analysis.Tables;

namespace EdgeLlm.Cli.Commands;

/// <summary><c>edgellm results add|export|figures</c>: feed a results store, export its tables, draw the paper figures.</summary>
internal static class ResultsCommand
{
    private static readonly JsonSerializerOptions ReadOptions = new() { PropertyNameCaseInsensitive = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Create()
    {
        var command = new Command("results", "Results store: add runs, export tables, draw figures");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(Export());
        command.Subcommands.Add(Figures());
        return command;
    }

    private static Option<FileInfo> StoreOption() => new("--store") { Required = true, Description = "Results store (.db); created if missing" };

    private static Command Add()
    {
        var store = StoreOption();
        var file = new Argument<FileInfo>("run-json") { Description = "A run as JSON (snake_case RunRecord: run, scores, samples, throughput, memory, phone, ...)" };
        var json = new Option<bool>("--json");
        var c = new Command("add", "Add one run (and everything it produced) in one transaction") { store, file, json };
        c.SetAction(parse => Output.Guard(() =>
        {
            var path = parse.GetValue(file)!.FullName;
            RunRecord record;
            try { record = JsonSerializer.Deserialize<RunRecord>(File.ReadAllText(path), ReadOptions) ?? throw new FormatException($"{path}: empty JSON"); }
            catch (JsonException e) { throw new FormatException($"{path}: not a run record: {e.Message}", e); }
            using var db = ResultsStore.Open(parse.GetValue(store)!.FullName);
            long id = db.AddRun(record);
            Output.Write(new { RunId = id, record.Run.Key }, parse.GetValue(json), () => Console.WriteLine($"added run {id} ({record.Run.Key})"));
            return 0;
        }));
        return c;
    }

    private static Command Export()
    {
        var store = StoreOption();
        var table = new Option<string>("--table") { DefaultValueFactory = _ => "task_scores", Description = "runs, task_scores, perplexities, throughput, memory, phone" };
        var output = new Option<FileInfo>("--out") { Required = true, Description = "Output .csv or .json" };
        var c = new Command("export", "Export one of the store's tables as CSV or JSON") { store, table, output };
        c.SetAction(parse => Output.Guard(() =>
        {
            using var db = ResultsStore.Open(parse.GetValue(store)!.FullName);
            var t = parse.GetValue(table) switch
            {
                "runs" => db.Runs(), "task_scores" => db.TaskScores(), "perplexities" => db.Perplexities(),
                "throughput" => db.Throughput(), "memory" => db.Memory(), "phone" => db.Phone(),
                var other => throw new ArgumentException($"unknown table '{other}'"),
            };
            var path = parse.GetValue(output)!.FullName;
            if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) t.SaveJson(path); else t.SaveCsv(path);
            Console.WriteLine($"wrote {t.Rows.Count} rows to {path}");
            return 0;
        }));
        return c;
    }

    private static Command Figures()
    {
        var store = StoreOption();
        var output = new Option<DirectoryInfo>("--out") { Required = true };
        var images = new Option<bool>("--images") { Description = "Also render PNG and SVG through headless Chromium" };
        var c = new Command("figures", "Write the standard pruning-paper figures (JSON + offline HTML, optionally PNG/SVG)") { store, output, images };
        c.SetAction(parse => Output.Guard(() =>
        {
            using var db = ResultsStore.Open(parse.GetValue(store)!.FullName);
            var dir = parse.GetValue(output)!.FullName;
            foreach (var (name, figure) in PaperFigures.All(db))
            {
                figure.SaveJson(Path.Combine(dir, name + ".json"));
                figure.SaveHtml(Path.Combine(dir, name + ".html"), embedPlotly: false);
                if (parse.GetValue(images))
                {
                    FigureRenderer.SavePng(figure, Path.Combine(dir, name + ".png"));
                    FigureRenderer.SaveSvg(figure, Path.Combine(dir, name + ".svg"));
                }
                Console.WriteLine($"{name}: {figure}");
            }
            return 0;
        }));
        return c;
    }
}
