using System.CommandLine;
using EdgeLlm.Hub;
using EdgeLlm.Inference;
using EdgeLlm.Inference.Backends.Cuda;

namespace EdgeLlm.Cli.Commands;

internal static class CommonOptions
{
    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object instead of text." };

    /// <summary><c>--store FILE</c>: also record the command's results as a run in this results store.</summary>
    public static Option<string?> Store() => new("--store") { Description = "Also record the results as a run in this results store (SQLite .db, created if missing)." };

    /// <summary>
    /// Opens and closes the store before a long run, so that a corrupt, truncated or newer-schema store is
    /// refused up front rather than after the work is done.
    /// </summary>
    public static void CheckStore(string? path)
    {
        if (path is null) return;
        using var store = EdgeLlm.Analysis.Store.ResultsStore.Open(path);
    }

    /// <summary>Adds the run to the store at <paramref name="path"/> (if given) and says so on stderr; returns the run id.</summary>
    public static long? Record(string? path, Func<EdgeLlm.Analysis.Store.ResultsStore, long> add)
    {
        if (path is null) return null;
        using var store = EdgeLlm.Analysis.Store.ResultsStore.Open(path);
        long id = add(store);
        Console.Error.WriteLine($"recorded run {id} in {store.Path}");
        return id;
    }

    /// <summary><c>--device cpu|cuda[:N]</c>: which engine runs the model.</summary>
    public static Option<string> Device() => new("--device")
    {
        Description = "Where the model runs: cpu (the reference engine) or cuda[:N] (the CUDA engine on GPU N).",
        DefaultValueFactory = _ => "cpu",
    };

    public static EngineOptions Engine(string device) => new() { Device = DeviceSelection.Parse(device) };

    public static Argument<string> Model() => new("model") { Description = "A model folder (config.json + safetensors) or a Hugging Face repo id such as microsoft/phi-2 (downloaded once into the Hub cache)." };

    /// <summary>The folder for a model argument: a path as given, or a Hub repo id fetched into the cache (progress on stderr).</summary>
    public static string ResolveModel(string modelOrPath, string? revision = null) =>
        ModelSource.Resolve(modelOrPath, revision, HubSettings.FromEnvironment(), DownloadProgressPrinter.Create());

    public static int[] ParseIds(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, out var id) ? id : throw new FormatException($"'{s}' in --ids is not a token id.")).ToArray();

    // Calibration data options, shared by calibrate and prune.
    public static Option<string> Data() => new("--data") { Description = "Calibration text: a C4 shard (.json.gz / JSON lines) or an Alpaca JSON array." };
    public static Option<int> Samples() => new("--samples") { Description = "Number of calibration windows.", DefaultValueFactory = _ => 128 };
    public static Option<int> SeqLen() => new("--seqlen") { Description = "Tokens per calibration window.", DefaultValueFactory = _ => 2048 };
    public static Option<int> Seed() => new("--seed") { Description = "Seed of Python's random, as in Wanda/SparseGPT's get_c4.", DefaultValueFactory = _ => 0 };
}
