using System.CommandLine;
using EdgeLlm.Cli.Commands;

var root = new RootCommand("EdgeLlm: load, prune, score and profile Hugging Face LLMs for 12 GB phones (FP16/FP32, no quantization).");
foreach (var command in new[]
{
    QuickstartCommand.Create(),
    GetCommand.Create(),
    InspectCommand.Create(),
    TokenizeCommand.Create(),
    ChatTemplateCommand.Create(),
    ScoreCommand.Create(),
    GenerateCommand.Create(),
    InitRandomCommand.Create(),
    BenchCommand.Create(),
    BenchTokenizerCommand.Create(),
    MemoryCommand.Create(),
    PhoneCommand.Create(),
    EvalCommand.Create(),
    EvalDistributed.Worker(),
    NotebookCommand.Create(),
    ResultsCommand.Create(),
    SubmissionCommand.Create(),
    CalibrateCommand.Create(),
    PerplexityCommand.Create(),
    PruneCommand.Create(),
    PackCommand.Create(),
    GpuSelfTestCommand.Create(),
})
    root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
