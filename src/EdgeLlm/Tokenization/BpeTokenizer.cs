namespace EdgeLlm.Tokenization;

/// <summary>Byte-level BPE tokenizer loaded from a Hugging Face tokenizer.json (GPT-2, Phi-2, Llama-3, Qwen2/3).</summary>
public sealed class BpeTokenizer : CoreBackedTokenizer
{
    private BpeTokenizer(TokenizerCore core) : base(core) { }

    /// <summary>Loads tokenizer.json and, when given, tokenizer_config.json (BOS/EOS and add_bos/eos_token).</summary>
    public static BpeTokenizer FromFile(string tokenizerJsonPath, string? tokenizerConfigPath = null)
    {
        var settings = TokenizerConfigReader.Read(tokenizerConfigPath);
        return new BpeTokenizer(HfTokenizerJson.Load(tokenizerJsonPath, settings));
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
