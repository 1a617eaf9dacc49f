using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EdgeLlm.Profiling;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Cli.Commands;

internal static class BenchTokenizerCommand
{
    public static Command Create()
    {
        var tokenizer = new Argument<string>("tokenizer") { Description = "Folder with tokenizer.json (or qwen.tiktoken), or a model folder." };
        var texts = new Option<string>("--texts") { Description = "A JSON array of strings, or a plain text file (one document per blank-line-separated block).", Required = true };
        var repeats = new Option<int>("--repeats") { DefaultValueFactory = _ => 5 };
        var throughLibrary = new Option<bool>("--through-library") { Description = "Time the exposed Microsoft.ML.Tokenizers tokenizer's own EncodeToIds (no EdgeLlm per-piece cache) instead of Encode." };
        var json = CommonOptions.Json();
        var command = new Command("bench-tokenizer", "Encoding speed in MB/s of UTF-8 text: cold (a freshly loaded tokenizer) and warm (per-word caches filled).")
            { tokenizer, texts, repeats, throughLibrary, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            var path = parse.GetValue(tokenizer)!;
            var corpus = ReadTexts(parse.GetValue(texts)!);
            int n = parse.GetValue(repeats);
            var library = parse.GetValue(throughLibrary);
            var cold = new List<double>();
            long bytes = corpus.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
            for (int r = 0; r < n; r++)
            {
                var fresh = TokenizerBenchmark.Encoder(Tokenizers.Load(path), library);
                var sw = Stopwatch.StartNew();
                foreach (var t in corpus) fresh(t);
                cold.Add(bytes / sw.Elapsed.TotalSeconds / 1e6);
            }
            var warm = TokenizerBenchmark.Run(Tokenizers.Load(path), corpus, n, library);
            var result = new
            {
                Tokenizer = path, ThroughLibrary = library, Texts = corpus.Count, Utf8Bytes = bytes, Tokens = warm.Tokens, Repeats = n,
                ColdMbPerSecond = Statistics.Median(cold), WarmMbPerSecond = warm.MegabytesPerSecond,
            };
            Output.Write(result, parse.GetValue(json), () =>
                Console.WriteLine($"{path}: {bytes:N0} bytes → {warm.Tokens:N0} tokens; cold {result.ColdMbPerSecond:F2} MB/s, warm {result.WarmMbPerSecond:F2} MB/s (median of {n})"));
            return 0;
        }));
        return command;
    }

    private static IReadOnlyList<string> ReadTexts(string file)
    {
        var content = File.ReadAllText(file);
        if (file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            try { return JsonSerializer.Deserialize<string[]>(content) ?? throw new FormatException($"{file}: null"); }
            catch (JsonException e) { throw new FormatException($"{file}: not a JSON array of strings ({e.Message})"); }
        }
        return content.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
    }
}
