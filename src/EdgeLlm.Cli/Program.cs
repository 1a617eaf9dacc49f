using System.CommandLine;
using EdgeLlm.Cli.Commands;

var root = new RootCommand("EdgeLlm: load, prune, score and profile Hugging Face LLMs for 12 GB phones (FP16/FP32, no quantization).");
foreach (var command in new[]
{
    QuickstartCommand.Create(), InspectCommand.Create(), TokenizeCommand.Create(), ScoreCommand.Create(),
    GenerateCommand.Create(), InitRandomCommand.Create(), BenchCommand.Create(),
    CalibrateCommand.Create(), PruneCommand.Create(), PerplexityCommand.Create(),
})
    root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
