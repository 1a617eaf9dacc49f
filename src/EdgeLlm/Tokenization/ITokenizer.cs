namespace EdgeLlm.Tokenization;

/// <summary>Text to token ids and back. Implementations are thread-safe for concurrent Encode/Decode.</summary>
public interface ITokenizer
{
    /// <summary>Encodes text. Added/special tokens written in the text are always recognised;
    /// <paramref name="addSpecialTokens"/> only controls the BOS/EOS that the configuration asks for.</summary>
    int[] Encode(string text, bool addSpecialTokens = false);

    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false);

    string Decode(int[] ids, bool skipSpecialTokens = false);

    /// <summary>One past the largest id (model vocabulary plus added tokens).</summary>
    int VocabSize { get; }

    int? BosTokenId { get; }

    int? EosTokenId { get; }

    /// <summary>Whether <see cref="Encode"/> prepends BOS when asked to add special tokens.</summary>
    bool AddBosToken { get; }

    /// <summary>Token text as stored in the vocabulary (byte-level form for byte-level BPE), or null for an unknown id.</summary>
    string? TokenToString(int id);

    int? TokenToId(string token);

    /// <summary>
    /// The Microsoft.ML.Tokenizers tokenizer that does the encoding, configured from the same files, for code written
    /// against that library: its <c>EncodeToIds(text)</c> gives what <see cref="Encode"/> gives without BOS/EOS.
    /// </summary>
    Microsoft.ML.Tokenizers.Tokenizer Tokenizer { get; }

    /// <summary>Contents of the tokens marked special (skipped by Decode when asked).</summary>
    IReadOnlyList<string> SpecialTokens { get; }
}
