namespace EdgeLlm.Tokenization;

/// <summary>Byte-level BPE tokenizer loaded from a Hugging Face tokenizer.json (GPT-2, Phi-2, Llama-3, Qwen2/3).</summary>
public sealed class BpeTokenizer : CoreBackedTokenizer
{
    private BpeTokenizer(TokenizerCore core) : base(core) { }

    /// <summary>Loads tokenizer.json and, when given, tokenizer_config.json (BOS/EOS and add_bos/eos_token).</summary>
    public static BpeTokenizer FromFile(string tokenizerJsonPath, string? tokenizerConfigPath = null)
    {
        var configured = TokenizerConfigReader.Read(tokenizerConfigPath);
        var core = HfTokenizerJson.Load(tokenizerJsonPath, configured, out var settings);
        // A token the config asks to add but the vocabulary lacks was silently left out of every prompt.
        if (settings.AddBosToken == true && settings.BosToken is { } bos && core.BosTokenId is null)
            throw new TokenizerFormatException($"add_bos_token is true but bos_token '{bos}' is not in the vocabulary of {tokenizerJsonPath}", tokenizerConfigPath);
        if (settings.AddEosToken == true && settings.EosToken is { } eos && core.EosTokenId is null)
            throw new TokenizerFormatException($"add_eos_token is true but eos_token '{eos}' is not in the vocabulary of {tokenizerJsonPath}", tokenizerConfigPath);
        return new BpeTokenizer(core);
    }

    /// <summary>Loads tokenizer.json from a folder, with tokenizer_config.json when present.</summary>
    public static BpeTokenizer FromFolder(string folder)
    {
        var config = Path.Combine(folder, "tokenizer_config.json");
        return FromFile(Path.Combine(folder, "tokenizer.json"), File.Exists(config) ? config : null);
    }

    /// <summary>Whether <see cref="CoreBackedTokenizer.Encode"/> appends EOS when asked to add special tokens.</summary>
    public bool AddEosToken => Core.AddEosToken;
}
