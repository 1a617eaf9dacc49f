using System.Text;
using Ml = Microsoft.ML.Tokenizers;

namespace EdgeLlm.Tokenization;

/// <summary>
/// tiktoken-format BPE (one "base64-token rank" per line), as shipped by Qwen-7B in qwen.tiktoken, encoded by
/// Microsoft.ML.Tokenizers' <see cref="Ml.TiktokenTokenizer"/>. Defaults follow Qwen-7B: its split pattern, NFC
/// normalization, and the special tokens &lt;|endoftext|&gt;, &lt;|im_start|&gt;, &lt;|im_end|&gt;,
/// &lt;|extra_0|&gt;..&lt;|extra_204|&gt; numbered after the last rank.
/// </summary>
public sealed class TiktokenTokenizer : CoreBackedTokenizer
{
    private TiktokenTokenizer(TokenizerCore core) : base(core) { }

    /// <summary>Qwen-7B's special tokens, in id order.</summary>
    public static IReadOnlyList<string> QwenSpecialTokens { get; } =
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>", .. Enumerable.Range(0, 205).Select(i => $"<|extra_{i}|>")];

    /// <summary>Loads a Qwen-7B style qwen.tiktoken.</summary>
    public static TiktokenTokenizer FromFile(string path) =>
        FromFile(path, QwenSpecialTokens, Cl100kPatternScanner.QwenPattern, normalizeNfc: true, eosToken: "<|endoftext|>");

    /// <summary>Loads a tiktoken file with the given special tokens (ids continue after the largest rank) and split regex.</summary>
    public static TiktokenTokenizer FromFile(string path, IReadOnlyList<string> specialTokens, string splitPattern,
        bool normalizeNfc, string? eosToken)
    {
        var ranks = TiktokenFile.Read(path);
        var tokens = new Dictionary<string, int>(ranks.Count, StringComparer.Ordinal);
        var next = 0;
        foreach (var (key, rank) in ranks)
        {
            var bytes = new byte[key.Length];
            for (var i = 0; i < key.Length; i++) bytes[i] = (byte)key[i];
            tokens[ByteLevelAlphabet.ToByteLevel(bytes)] = rank;
            next = Math.Max(next, rank + 1);
        }
        var added = specialTokens.Select((t, i) => new AddedToken(next + i, t, Special: true)).ToArray();
        var preTokenizer = new HfPreTokenizer(added.Length > 0 ? new AddedTokenSplitter(added) : null, [SplitPatterns.For(splitPattern)]);
        var normalizer = normalizeNfc ? new TextNormalizer([NormalizationForm.FormC]) : null;
        Ml.TiktokenTokenizer model;
        using (var stream = File.OpenRead(path))
        {
            try
            {
                model = Ml.TiktokenTokenizer.Create(stream, preTokenizer, normalizer, HfTokenizerJson.AddedTokenIds(added));
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            {
                throw new TokenizerFormatException($"Microsoft.ML.Tokenizers could not read the file: {e.Message}", path, null, e);
            }
        }
        return new TiktokenTokenizer(new TokenizerCore(model, preTokenizer, tokens, added, new SpecialTokenSettings(null, eosToken, false, false)));
    }
}
