using System.CommandLine;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Cli.Commands;

internal static class InitRandomCommand
{
    public static Command Create()
    {
        var like = new Option<string>("--like") { Description = $"Model whose shapes to copy: {string.Join(", ", ModelPresets.Names)}.", Required = true };
        var layers = new Option<int?>("--layers") { Description = "Keep only this many decoder layers." };
        var dtype = new Option<string>("--dtype") { Description = "f16, bf16 or f32.", DefaultValueFactory = _ => "f16" };
        var output = new Option<string>("--out") { Description = "Folder to write.", Required = true };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 0UL };
        var json = CommonOptions.Json();
        var command = new Command("init-random", "Write a random-weight checkpoint with a real model's shapes (for memory and speed work).")
            { like, layers, dtype, output, seed, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            var outDir = parse.GetValue(output)!;
            IReadOnlyList<string> files;
            using (var printer = ProgressPrinter.Start(quiet: parse.GetValue(json)))
                files = RandomCheckpoint.Create(ModelPresets.Config(parse.GetValue(like)!), outDir,
                    DTypes.ParseFloatName(parse.GetValue(dtype)!), parse.GetValue(layers), parse.GetValue(seed), printer.Stages());
            using var checkpoint = Checkpoint.Open(outDir);
            var summary = new { Out = Path.GetFullPath(outDir), Files = files.Select(Path.GetFileName).ToArray(), checkpoint.ParameterCount, checkpoint.WeightBytes };
            Output.Write(summary, parse.GetValue(json), () =>
                Console.WriteLine($"wrote {outDir}: {checkpoint.ParameterCount:N0} parameters, {Output.Bytes(checkpoint.WeightBytes)}"));
            return 0;
        }));
        return command;
    }
}
