using System.CommandLine;
using EdgeLlm.Hub;

namespace EdgeLlm.Cli.Commands;

internal static class CommonOptions
{
    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object instead of text." };

    public static Argument<string> Model() => new("model") { Description = "A model folder (config.json + safetensors) or a Hugging Face repo id such as microsoft/phi-2 (downloaded once into the Hub cache)." };

    /// <summary>The folder for a model argument: a path as given, or a Hub repo id fetched into the cache (progress on stderr).</summary>
    public static string ResolveModel(string modelOrPath, string? revision = null) =>
        ModelSource.Resolve(modelOrPath, revision, HubSettings.FromEnvironment(), DownloadProgressPrinter.Create());

    public static int[] ParseIds(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, out var id) ? id : throw new FormatException($"'{s}' in --ids is not a token id.")).ToArray();
}
