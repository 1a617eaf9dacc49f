using System.Text.Json;
using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Tokenization;

/// <summary>
/// Writes a qwen.tiktoken (into a temp folder) from the qwen3 tokenizer.json vocabulary: each byte-level vocab
/// string mapped back to its bytes, rank = id. Qwen2/3 share Qwen-7B's base vocabulary.
/// </summary>
public sealed class QwenTiktokenFixture : IDisposable
{
    public QwenTiktokenFixture()
    {
        Folder = Directory.CreateTempSubdirectory("edgellm-tiktoken-").FullName;
        FilePath = Path.Combine(Folder, "qwen.tiktoken");
        using var doc = JsonDocument.Parse(File.ReadAllText(SharedData.Path("tokenizers", "qwen3", "tokenizer.json")));
        var unicodeToByte = GptByteDecoder();
        var lines = doc.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject()
            .Select(e => (Bytes: e.Name.Select(c => unicodeToByte[c]).ToArray(), Rank: e.Value.GetInt32()))
            .OrderBy(e => e.Rank)
            .Select(e => $"{Convert.ToBase64String(e.Bytes)} {e.Rank}");
        File.WriteAllLines(FilePath, lines);
        Tokenizer = TiktokenTokenizer.FromFile(FilePath);
    }

    public string Folder { get; }
    public string FilePath { get; }
    public TiktokenTokenizer Tokenizer { get; }

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    // GPT-2's bytes_to_unicode, inverted (written out here independently of the library's copy).
    private static Dictionary<char, byte> GptByteDecoder()
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range(0xA1, 0xAC - 0xA1 + 1))
            .Concat(Enumerable.Range(0xAE, 0xFF - 0xAE + 1)).ToHashSet();
        var map = new Dictionary<char, byte>();
        var extra = 0;
        for (var b = 0; b < 256; b++)
            map[printable.Contains(b) ? (char)b : (char)(256 + extra++)] = (byte)b;
        return map;
    }
}
