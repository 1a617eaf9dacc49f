using System.CommandLine;
using EdgeLlm.Calibration;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Cli.Commands;

internal static class PackCommand
{
    public static Command Create()
    {
        var data = new Option<string[]>("--data") { Description = "C4 shards (.json.gz / JSON lines) or Alpaca JSON arrays; repeatable.", Required = true, AllowMultipleArgumentsPerToken = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "Tokenizer folder or file.", Required = true };
        var seqlen = new Option<int>("--seqlen") { DefaultValueFactory = _ => 2048 };
        var output = new Option<string>("--out") { Description = "Folder for tokens.bin and index.json.", Required = true };
        var json = CommonOptions.Json();
        var command = new Command("pack", "Tokenize C4 / Alpaca text into fixed-length training sequences (flat uint32 token file + index).")
            { data, tokenizer, seqlen, output, json };
        command.SetAction((parse, ct) => Task.FromResult(Output.Guard(() =>
        {
            var files = parse.GetValue(data)!;
            var docs = files.SelectMany(f => TextDocuments.Read(f)).ToList();
            PackedTokens packed;
            using (var printer = ProgressPrinter.Start())
                packed = PackedTokens.Pack(docs, Tokenizers.Load(parse.GetValue(tokenizer)!), parse.GetValue(seqlen), parse.GetValue(output)!,
                    files.Select(Path.GetFileName).ToList()!, printer.Stages(), ct);
            Output.Write(packed, parse.GetValue(json), () =>
                Console.WriteLine($"{docs.Count} documents → {packed.Sequences} sequences of {packed.SequenceLength} tokens ({packed.DroppedTokens} tail tokens dropped) in {packed.Directory}"));
            return 0;
        })));
        return command;
    }
}
