namespace EdgeLlm.Tokenization;

/// <summary>The <see cref="ITokenizer"/> surface shared by the file formats: every call goes to one <see cref="TokenizerCore"/>.</summary>
public abstract class CoreBackedTokenizer : ITokenizer
{
    private protected CoreBackedTokenizer(TokenizerCore core) => Core = core;

    private protected TokenizerCore Core { get; }

    public Microsoft.ML.Tokenizers.Tokenizer Tokenizer => Core.Model;
    public int VocabSize => Core.VocabSize;
    public int? BosTokenId => Core.BosTokenId;
    public int? EosTokenId => Core.EosTokenId;
    public bool AddBosToken => Core.AddBosToken;
    public IReadOnlyList<string> SpecialTokens => Core.SpecialTokens;

    public int[] Encode(string text, bool addSpecialTokens = false) => Core.Encode(text, addSpecialTokens);

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false) => Core.Decode(ids, skipSpecialTokens);

    public string Decode(int[] ids, bool skipSpecialTokens = false) => Core.Decode(ids, skipSpecialTokens);

    /// <summary>The bytes one id contributes to <see cref="Decode(int[], bool)"/>, which decodes their concatenation as UTF-8.</summary>
    public ReadOnlyMemory<byte> TokenBytes(int id, bool skipSpecialTokens = false) => Core.TokenBytes(id, skipSpecialTokens);

    /// <summary>The token as its vocabulary stores it (GPT-2 byte-level form for byte-level BPE), or null for an unknown id.</summary>
    public string? TokenToString(int id) => Core.TokenToString(id);

    public int? TokenToId(string token) => Core.TokenToId(token);
}
