using System.CommandLine;
using System.Text.Json;
using EdgeLlm.Tokenization.ChatTemplates;

namespace EdgeLlm.Cli.Commands;

internal static class ChatTemplateCommand
{
    public static Command Create()
    {
        var tokenizer = new Option<string?>("--tokenizer") { Description = "A model or tokenizer folder: its tokenizer_config.json gives the chat_template and the special tokens." };
        var template = new Option<string?>("--template") { Description = "A .jinja chat template file." };
        var messages = new Option<string>("--messages") { Description = "A JSON file: an array of messages ({\"role\", \"content\", …}), or an object with \"messages\" (and optionally \"tools\").", Required = true };
        var generation = new Option<bool>("--add-generation-prompt") { Description = "End with the assistant turn's opening (add_generation_prompt=True)." };
        var set = new Option<string[]>("--set") { Description = "NAME=VALUE template variable (bos_token, eos_token, date_string, …); VALUE is JSON if it parses, else a string.", AllowMultipleArgumentsPerToken = false };
        var json = CommonOptions.Json();
        var command = new Command("chat-template", "Render a chat template (Jinja2) over a list of messages, as transformers' apply_chat_template does.")
            { tokenizer, template, messages, generation, set, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            var folder = parse.GetValue(tokenizer);
            var file = parse.GetValue(template);
            if ((folder == null) == (file == null)) throw new ArgumentException("give exactly one of --tokenizer DIR and --template FILE.jinja");
            var settings = folder != null ? TokenizerChatSettings.Read(folder) : null;
            var chat = file != null ? ChatTemplate.FromFile(file)
                : settings!.Template ?? throw new InvalidOperationException($"{Path.Combine(folder!, "tokenizer_config.json")} has no chat_template.");
            var input = ReadMessages(parse.GetValue(messages)!);
            var variables = new Dictionary<string, JsonElement>();
            var special = new Dictionary<string, string>(settings?.SpecialTokens ?? new Dictionary<string, string>());
            foreach (var pair in parse.GetValue(set) ?? [])
            {
                int eq = pair.IndexOf('=');
                if (eq <= 0) throw new ArgumentException($"--set '{pair}' is not NAME=VALUE");
                var (name, value) = (pair[..eq], pair[(eq + 1)..]);
                special.Remove(name);
                variables[name] = ParseValue(value);
            }
            var text = chat.Render(input.Messages, new ChatRenderOptions
            {
                AddGenerationPrompt = parse.GetValue(generation), SpecialTokens = special, Tools = input.Tools, Variables = variables,
            });
            Output.Write(new { Text = text }, parse.GetValue(json), () => Console.Write(text));
            return 0;
        }));
        return command;
    }

    private static JsonElement ParseValue(string value)
    {
        try { return JsonDocument.Parse(value).RootElement.Clone(); }
        catch (JsonException) { return JsonSerializer.SerializeToElement(value); }
    }

    private static (JsonElement Messages, JsonElement? Tools) ReadMessages(string path)
    {
        JsonElement root;
        try { root = JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone(); }
        catch (JsonException e) { throw new FormatException($"{path}: not JSON ({e.Message})"); }
        if (root.ValueKind == JsonValueKind.Array) return (root, null);
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("messages", out var m) && m.ValueKind == JsonValueKind.Array)
            return (m, root.TryGetProperty("tools", out var t) && t.ValueKind != JsonValueKind.Null ? t : null);
        throw new FormatException($"{path}: expected an array of messages or an object with a \"messages\" array");
    }
}
