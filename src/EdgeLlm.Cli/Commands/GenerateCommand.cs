using System.CommandLine;
using EdgeLlm.Inference;
using EdgeLlm.Profiling;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Cli.Commands;

internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var ids = new Option<string?>("--ids") { Description = "Prompt as comma-separated token ids." };
        var prompt = new Option<string?>("--prompt") { Description = "Prompt text (needs a tokenizer in the model folder or --tokenizer)." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer folder or file, if not in the model folder." };
        var maxNew = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => 64 };
        var stop = new Option<string[]>("--stop") { Description = "Stop string (repeatable).", AllowMultipleArgumentsPerToken = false };
        var noEos = new Option<bool>("--ignore-eos") { Description = "Do not stop at the model's EOS token." };
        var device = CommonOptions.Device();
        var json = CommonOptions.Json();
        var command = new Command("generate", "Greedy generation with stop strings and a token limit; reports TPOT.")
            { model, ids, prompt, tokenizer, maxNew, stop, noEos, device, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            var folder = CommonOptions.ResolveModel(parse.GetValue(model)!);
            using var lm = CausalLM.Load(folder, CommonOptions.Engine(parse.GetValue(device)!));
            var tok = TryLoadTokenizer(parse.GetValue(tokenizer) ?? folder, required: parse.GetValue(prompt) != null);
            int[] input = parse.GetValue(prompt) is { } text ? tok!.Encode(text, addSpecialTokens: true)
                : parse.GetValue(ids) is { } idText ? CommonOptions.ParseIds(idText)
                : throw new ArgumentException("Give --ids or --prompt.");
            var generator = new Generator(lm, tok == null ? null : t => tok.Decode(t, skipSpecialTokens: true));
            var result = generator.Greedy(input, new GenerationOptions
            {
                MaxNewTokens = parse.GetValue(maxNew),
                StopStrings = parse.GetValue(stop) ?? [],
                StopAtEos = !parse.GetValue(noEos),
            });
            var summary = new
            {
                Ids = result.Tokens, result.Text, result.FinishReason, PromptTokens = input.Length,
                result.TpotMs, result.DecodeMsPerToken, PrefillMs = result.PrefillSeconds * 1000,
                PeakRssBytes = ProcessMemory.PeakResidentBytes,
            };
            Output.Write(summary, parse.GetValue(json), () =>
            {
                Console.WriteLine(result.Text ?? string.Join(",", result.Tokens));
                Console.Error.WriteLine($"[{result.Tokens.Length} tokens, {result.FinishReason}; TPOT {result.TpotMs:F1} ms; peak RSS {Output.Bytes(ProcessMemory.PeakResidentBytes)}]");
            });
            return 0;
        }));
        return command;
    }

    public static ITokenizer? TryLoadTokenizer(string path, bool required)
    {
        bool present = File.Exists(path) || File.Exists(Path.Combine(path, "tokenizer.json")) || File.Exists(Path.Combine(path, "qwen.tiktoken"));
        if (!present && !required) return null;
        return Tokenizers.Load(path);
    }
}
