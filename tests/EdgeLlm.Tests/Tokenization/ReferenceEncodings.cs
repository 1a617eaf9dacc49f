using System.Text.Json;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Tokenization;

/// <summary>
/// The shared reference-encodings.json: texts and, per tokenizer, the ids transformers.js produced; and phi-2's own
/// (phi-2/reference-encodings.json: the same texts, ids from Hugging Face's Rust tokenizers).
/// </summary>
public static class ReferenceEncodings
{
    private static readonly Lazy<(string[] Texts, Dictionary<string, int[][]> Ids)> data = new(Load);

    public static IReadOnlyList<string> Texts => data.Value.Texts;

    public static int[][] IdsFor(string tokenizer) => data.Value.Ids[tokenizer];

    /// <summary>Each id list of a reference file's tokenizers.NAME.ids.</summary>
    internal static Dictionary<string, int[][]> ReadIds(JsonElement tokenizers)
    {
        var ids = new Dictionary<string, int[][]>();
        foreach (var tok in tokenizers.EnumerateObject())
        {
            ids[tok.Name] = tok.Value.GetProperty("ids").EnumerateArray()
                .Select(a => a.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
        }
        return ids;
    }

    private static (string[], Dictionary<string, int[][]>) Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(SharedData.Path("tokenizers", "reference-encodings.json")));
        var texts = doc.RootElement.GetProperty("texts").EnumerateArray().Select(t => t.GetString()!).ToArray();
        var ids = ReadIds(doc.RootElement.GetProperty("tokenizers"));
        using var phi2 = JsonDocument.Parse(File.ReadAllText(SharedData.Path("tokenizers", "phi-2", "reference-encodings.json")));
        if (!phi2.RootElement.GetProperty("texts").EnumerateArray().Select(t => t.GetString()!).SequenceEqual(texts))
            throw new InvalidDataException("phi-2/reference-encodings.json does not hold the same texts as reference-encodings.json");
        foreach (var (name, list) in ReadIds(phi2.RootElement.GetProperty("tokenizers"))) ids[name] = list;
        return (texts, ids);
    }

    /// <summary>Describes the first difference between two id sequences.</summary>
    public static string Describe(int index, string text, int[] expected, int[] actual)
    {
        var at = 0;
        while (at < expected.Length && at < actual.Length && expected[at] == actual[at]) at++;
        string Window(int[] ids) => "[" + string.Join(",", ids.Skip(Math.Max(0, at - 3)).Take(8)) + "]";
        var preview = text.Length > 40 ? text[..40] + "…" : text;
        return $"text #{index} {JsonSerializer.Serialize(preview)}: first difference at id {at} " +
               $"(expected {expected.Length} ids, got {actual.Length}); expected …{Window(expected)} actual …{Window(actual)}";
    }
}
