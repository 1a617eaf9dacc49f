using System.Text.Json;
using EdgeLlm.Evaluation.Protocols;
using EdgeLlm.Tokenization;
using EdgeLlm.Tokenization.ChatTemplates;

namespace EdgeLlm.Evaluation.Workflows;

/// <summary>
/// How a model folder is prompted under a protocol: its tokenizer (<see cref="Tokenizers.Load"/>: tokenizer.json or
/// qwen.tiktoken), and for a chat protocol its chat template, the special tokens passed to it and its stop words.
/// A chat protocol on a model with no chat template is refused (see docs/evaluation.md: OpenCompass 0.3.1 with
/// transformers ≥ 4.44 raises there; the early kit ran such models with --hf-type base) unless a template is given.
/// </summary>
public sealed record ModelPrompting(ITokenizer Tokenizer, PromptFormatter Formatter, string? ChatTemplateSource, IReadOnlyList<string> StopWords)
{
    public static ModelPrompting Prepare(string modelFolder, EvaluationProtocol protocol, string? chatTemplateFile = null)
    {
        var tokenizer = Tokenizers.Load(modelFolder);
        if (protocol.Style == PromptStyle.Base)
        {
            if (chatTemplateFile != null) throw new ArgumentException($"--chat-template applies to a chat protocol; {protocol.Name} prompts the model as a base model.");
            return new ModelPrompting(tokenizer, PromptFormatter.Base, null, []);
        }
        var settings = TokenizerChatSettings.Read(modelFolder);
        ChatTemplate template;
        string source;
        if (chatTemplateFile != null) { template = ChatTemplate.FromFile(chatTemplateFile); source = Path.GetFullPath(chatTemplateFile); }
        else if (settings.Template != null) { template = settings.Template; source = "tokenizer_config.json"; }
        else throw new InvalidOperationException(
            $"{modelFolder} has no chat template (tokenizer_config.json has no chat_template): protocol {protocol.Name} renders every prompt with it, " +
            "and OpenCompass 0.3.1 with transformers >= 4.44 stops at the first sample there. Use --protocol kit-2024-base (how the early kit ran Phi-2) " +
            "or give a template explicitly with --chat-template FILE.jinja.");
        var stops = ReadStopWords(modelFolder, tokenizer, settings.SpecialTokens);
        return new ModelPrompting(tokenizer, new ChatPromptFormatter(template, settings.SpecialTokens, stops), source, stops);
    }

    /// <summary>HuggingFacewithChatTemplate._get_potential_stop_words: generation_config.json's eos_token_id(s) decoded, and the tokenizer's eos_token.</summary>
    public static IReadOnlyList<string> ReadStopWords(string modelFolder, ITokenizer tokenizer, IReadOnlyDictionary<string, string> specialTokens)
    {
        var words = new List<string>();
        var path = Path.Combine(modelFolder, "generation_config.json");
        if (File.Exists(path))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.TryGetProperty("eos_token_id", out var eos))
            {
                var ids = eos.ValueKind switch
                {
                    JsonValueKind.Number => [eos.GetInt32()],
                    JsonValueKind.Array => eos.EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                    JsonValueKind.Null => Array.Empty<int>(),
                    _ => throw new FormatException($"{path}: eos_token_id must be an integer or a list of integers."),
                };
                words.AddRange(ids.Select(id => tokenizer.Decode([id], skipSpecialTokens: false)));
            }
        }
        if (specialTokens.TryGetValue("eos_token", out var eosToken)) words.Add(eosToken);
        return words.Where(w => w.Length > 0).Distinct().Order(StringComparer.Ordinal).ToList();
    }
}
