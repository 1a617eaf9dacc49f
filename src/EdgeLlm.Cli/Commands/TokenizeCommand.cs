using System.CommandLine;
using System.Text.Json;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Cli.Commands;

internal static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = new Argument<string>("tokenizer") { Description = "Folder with tokenizer.json (or qwen.tiktoken), or a model folder." };
        var texts = new Option<string>("--texts") { Description = "JSON file holding an array of strings.", Required = true };
        var special = new Option<bool>("--add-special-tokens") { Description = "Add BOS/EOS as tokenizer_config.json asks." };
        var json = CommonOptions.Json();
        var command = new Command("tokenize", "Encode texts to token ids.") { tokenizer, texts, special, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            var tok = Tokenizers.Load(parse.GetValue(tokenizer)!);
            var path = parse.GetValue(texts)!;
            string[] inputs;
            try { inputs = JsonSerializer.Deserialize<string[]>(File.ReadAllText(path)) ?? throw new FormatException("null"); }
            catch (JsonException e) { throw new FormatException($"{path}: not a JSON array of strings ({e.Message})"); }
            var ids = inputs.Select(t => tok.Encode(t, parse.GetValue(special))).ToArray();
            Output.Write(new { Ids = ids }, parse.GetValue(json), () =>
            {
                foreach (var row in ids) Console.WriteLine(string.Join(",", row));
            });
            return 0;
        }));
        return command;
    }
}
