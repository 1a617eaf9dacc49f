using System.CommandLine;
using EdgeLlm.Hub;

namespace EdgeLlm.Cli.Commands;

internal static class GetCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("model-or-dataset")
        {
            Description = "A Hub model id (microsoft/phi-2), a dataset name (gsm8k, allenai/c4, bbh, ...) or a local path.",
        };
        var revision = new Option<string?>("--revision") { Description = "Branch, tag or commit (Hub), or git ref (GitHub datasets)." };
        var files = new Option<string[]>("--file") { Description = "Dataset file to fetch, e.g. en/c4-validation.00000-of-00008.json.gz (repeatable; globs allowed for Hub repos)." };
        var dataset = new Option<bool>("--dataset") { Description = "Treat the name as a Hub dataset repo even if it is not in the catalogue." };
        var json = CommonOptions.Json();
        var command = new Command("get", "Download a model or dataset into the cache (once) and print where it is.") { name, revision, files, dataset, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            var what = parse.GetValue(name)!;
            var settings = HubSettings.FromEnvironment();
            bool isDataset = parse.GetValue(dataset) || DatasetCatalog.Find(what) != null || parse.GetValue(files) is { Length: > 0 };
            GetSummary summary;
            if (isDataset)
            {
                var location = DatasetSource.Resolve(what, parse.GetValue(files), parse.GetValue(revision), settings, DownloadProgressPrinter.Create());
                summary = new GetSummary(what, "dataset", location.Folder, location.Files);
            }
            else
            {
                var folder = ModelSource.Resolve(what, parse.GetValue(revision), settings, DownloadProgressPrinter.Create());
                summary = new GetSummary(what, "model", folder, Directory.GetFiles(folder).Order(StringComparer.Ordinal).ToArray());
            }
            Output.Write(summary, parse.GetValue(json), () => Console.WriteLine(summary.Path));
            return 0;
        }));
        return command;
    }
}

internal sealed record GetSummary(string Name, string Kind, string Path, IReadOnlyList<string> Files);
