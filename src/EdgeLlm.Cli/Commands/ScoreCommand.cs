using System.CommandLine;
using EdgeLlm.Inference;

namespace EdgeLlm.Cli.Commands;

internal static class ScoreCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var ids = new Option<string>("--ids") { Description = "Comma-separated token ids.", Required = true };
        var device = CommonOptions.Device();
        var json = CommonOptions.Json();
        var command = new Command("score", "Log-probability of each token given the ones before it.") { model, ids, device, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            using var lm = CausalLM.Load(CommonOptions.ResolveModel(parse.GetValue(model)!), CommonOptions.Engine(parse.GetValue(device)!));
            var tokens = CommonOptions.ParseIds(parse.GetValue(ids)!);
            if (tokens.Length < 2) throw new ArgumentException("--ids needs at least two tokens to score.");
            var logprobs = new Scorer(lm).LogProbs(tokens);
            Output.Write(new { Logprobs = logprobs, Sum = logprobs.Sum(v => (double)v) }, parse.GetValue(json), () =>
            {
                for (int t = 0; t < logprobs.Length; t++) Console.WriteLine($"{tokens[t + 1],8} {logprobs[t],12:F6}");
                Console.WriteLine($"sum {logprobs.Sum(v => (double)v):F6}");
            });
            return 0;
        }));
        return command;
    }
}
