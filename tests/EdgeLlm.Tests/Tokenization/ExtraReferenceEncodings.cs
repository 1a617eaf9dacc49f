using System.Text.Json;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Tokenization;

/// <summary>
/// References/tokenizer-extra-encodings.json (tools/tokenizers/encode.mjs): edge-case texts and the Llama-3 tokens
/// only ignore_merges produces whole, with the ids @huggingface/tokenizers gives for each shared tokenizer folder
/// and its decode of them with skip_special_tokens.
/// </summary>
public static class ExtraReferenceEncodings
{
    private static readonly Lazy<(string[] Texts, Dictionary<string, int[][]> Ids, Dictionary<string, string[]> Skipped)> data = new(Load);

    public static IReadOnlyList<string> Texts => data.Value.Texts;

    public static int[][] IdsFor(string tokenizer) => data.Value.Ids[tokenizer];

    public static string[] DecodedSkippingSpecialFor(string tokenizer) => data.Value.Skipped[tokenizer];

    /// <summary>Ids of the first texts with two ids past the tokenizer's vocabulary inserted, and the reference's decode of them.</summary>
    public static (int VocabularySize, int[][] Ids, string[] Decoded) PastVocabularyFor(string tokenizer)
    {
        var t = SharedData.ReferenceJson("tokenizer-extra-encodings.json").GetProperty("tokenizers").GetProperty(tokenizer);
        return (t.GetProperty("vocabulary_size").GetInt32(),
            t.GetProperty("ids_past_vocabulary").EnumerateArray().Select(i => i.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray(),
            t.GetProperty("decoded_past_vocabulary").EnumerateArray().Select(d => d.GetString()!).ToArray());
    }

    private static (string[], Dictionary<string, int[][]>, Dictionary<string, string[]>) Load()
    {
        var root = SharedData.ReferenceJson("tokenizer-extra-encodings.json");
        var texts = root.GetProperty("texts").EnumerateArray().Select(t => t.GetString()!).ToArray();
        var tokenizers = root.GetProperty("tokenizers");
        var skipped = tokenizers.EnumerateObject().ToDictionary(t => t.Name,
            t => t.Value.GetProperty("decoded_skipping_special").EnumerateArray().Select(s => s.GetString()!).ToArray());
        return (texts, ReferenceEncodings.ReadIds(tokenizers), skipped);
    }
}
