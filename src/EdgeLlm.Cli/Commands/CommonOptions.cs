using System.CommandLine;

namespace EdgeLlm.Cli.Commands;

internal static class CommonOptions
{
    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object instead of text." };

    public static Argument<string> Model() => new("model") { Description = "A Hugging Face model folder (config.json + safetensors)." };

    public static int[] ParseIds(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, out var id) ? id : throw new FormatException($"'{s}' in --ids is not a token id.")).ToArray();
}
