using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeLlm.Calibration;

/// <summary>
/// Reads the text of calibration and evaluation corpora: C4's JSON-lines shards (<c>{"text": …}</c> per
/// line, optionally gzip'd) and Alpaca's JSON array of <c>{instruction, input, output}</c>. Errors name
/// the file and the line (or array element).
/// </summary>
public static class TextDocuments
{
    /// <summary>The <c>text</c> field of each line of a C4 shard (<c>.json</c>, <c>.jsonl</c> or <c>.json.gz</c>).</summary>
    public static IReadOnlyList<string> ReadC4(string path, int maxDocuments = int.MaxValue)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: C4 file not found.", path);
        var docs = new List<string>();
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(stream);
        int lineNumber = 0;
        try
        {
            while (docs.Count < maxDocuments && reader.ReadLine() is { } line)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                JsonNode? node;
                try { node = JsonNode.Parse(line); }
                catch (JsonException e) { throw new FormatException($"{path}:{lineNumber}: not a JSON object ({e.Message})."); }
                if (node is not JsonObject obj || obj["text"] is not JsonValue v || !v.TryGetValue<string>(out var text))
                    throw new FormatException($"{path}:{lineNumber}: expected a JSON object with a string field 'text'.");
                docs.Add(text);
            }
        }
        catch (InvalidDataException e) { throw new FormatException($"{path}: not a valid gzip file ({e.Message})."); }
        if (docs.Count == 0) throw new FormatException($"{path}: no documents.");
        return docs;
    }

    /// <summary>
    /// Alpaca records rendered with the Stanford Alpaca prompt (the input section only when input is
    /// non-empty) followed by the output, one text per record.
    /// </summary>
    public static IReadOnlyList<string> ReadAlpaca(string path, int maxDocuments = int.MaxValue)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: Alpaca file not found.", path);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new FormatException($"{path}: not valid JSON ({e.Message})."); }
        if (root is not JsonArray array) throw new FormatException($"{path}: expected a JSON array of {{instruction, input, output}} records.");
        var docs = new List<string>();
        for (int i = 0; i < array.Count && docs.Count < maxDocuments; i++)
        {
            string Field(string name, bool required)
            {
                if (array[i] is not JsonObject o) throw new FormatException($"{path}: element {i} is not an object.");
                if (o[name] is null) return required ? throw new FormatException($"{path}: element {i} has no '{name}'.") : "";
                return o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s
                    : throw new FormatException($"{path}: element {i}: '{name}' is not a string.");
            }
            string instruction = Field("instruction", true), input = Field("input", false), output = Field("output", true);
            docs.Add(AlpacaPrompt(instruction, input) + output);
        }
        if (docs.Count == 0) throw new FormatException($"{path}: no records.");
        return docs;
    }

    /// <summary>The prompt template of Stanford Alpaca's training code (with and without an input).</summary>
    public static string AlpacaPrompt(string instruction, string input) => string.IsNullOrEmpty(input)
        ? "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n" +
          $"### Instruction:\n{instruction}\n\n### Response:\n"
        : "Below is an instruction that describes a task, paired with an input that provides further context. " +
          "Write a response that appropriately completes the request.\n\n" +
          $"### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n";

    /// <summary>Reads C4 JSON lines or an Alpaca JSON array, by content: a file starting with '[' is Alpaca.</summary>
    public static IReadOnlyList<string> Read(string path, int maxDocuments = int.MaxValue)
    {
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            return ReadC4(path, maxDocuments);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found.", path);
        using (var r = new StreamReader(path))
        {
            int c;
            while ((c = r.Read()) >= 0 && char.IsWhiteSpace((char)c)) { }
            if (c == '[') return ReadAlpaca(path, maxDocuments);
        }
        return ReadC4(path, maxDocuments);
    }
}
