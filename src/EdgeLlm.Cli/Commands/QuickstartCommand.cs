using System.CommandLine;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Profiling;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Cli.Commands;

/// <summary>The whole flow on the embedded default: create or find the demo model, load, tokenize, generate, report TPOT and memory.</summary>
internal static class QuickstartCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "A model folder with a tokenizer; default: the shipped demo model (data/demo-model)." };
        var prompt = new Option<string>("--prompt") { DefaultValueFactory = _ => "The :mod:`json` module" };
        var maxNew = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => 32 };
        var json = CommonOptions.Json();
        var command = new Command("quickstart", "Run the main flow end to end on the embedded demo model (or --model).") { model, prompt, maxNew, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            bool asJson = parse.GetValue(json);
            var progress = Output.Progress(asJson);
            var folder = parse.GetValue(model) is { } given ? CommonOptions.ResolveModel(given) : DemoModel.Locate(progress: progress);
            using var lm = CausalLM.Load(folder);
            var tokenizer = Tokenizers.Load(folder);
            var text = parse.GetValue(prompt)!;
            var ids = tokenizer.Encode(text, addSpecialTokens: true);
            var generator = new Generator(lm, t => tokenizer.Decode(t, skipSpecialTokens: true));
            var result = generator.Greedy(ids, new GenerationOptions { MaxNewTokens = parse.GetValue(maxNew) });
            var logprobs = new Scorer(lm).LogProbs(ids);
            var summary = new
            {
                Model = folder, Architecture = lm.Config.ArchitectureName, Parameters = lm.Checkpoint.ParameterCount,
                Dtype = lm.Checkpoint.DType.ToTorchName(), WeightBytes = lm.Checkpoint.WeightBytes,
                Prompt = text, PromptIds = ids, PromptPerplexity = Math.Exp(-logprobs.Average(v => (double)v)),
                GeneratedIds = result.Tokens, GeneratedText = result.Text, result.FinishReason,
                result.TpotMs, result.DecodeMsPerToken, PeakRssBytes = ProcessMemory.PeakResidentBytes,
            };
            Output.Write(summary, asJson, () =>
            {
                Console.WriteLine($"model     {folder}");
                Console.WriteLine($"          {summary.Architecture}, {summary.Parameters:N0} parameters, {summary.Dtype}, {Output.Bytes(summary.WeightBytes)}");
                Console.WriteLine($"prompt    {text}");
                Console.WriteLine($"tokens    {ids.Length}: {string.Join(",", ids.Take(16))}{(ids.Length > 16 ? ",…" : "")}");
                Console.WriteLine($"ppl       {summary.PromptPerplexity:F2} (prompt perplexity under the model)");
                Console.WriteLine($"generated {result.Tokens.Length} tokens ({result.FinishReason}): \"{result.Text}\"");
                Console.WriteLine($"TPOT      {result.TpotMs:F2} ms/token (whole response ÷ tokens); decode step {result.DecodeMsPerToken:F2} ms");
                Console.WriteLine($"memory    peak RSS {Output.Bytes(summary.PeakRssBytes)}");
            });
            return 0;
        }));
        return command;
    }
}
