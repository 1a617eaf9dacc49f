using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLlm.Checkpoints;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Calibration;

/// <summary>
/// Training data for the from-scratch track: documents tokenized, each followed by EOS, concatenated and
/// cut into fixed-length sequences. Written as a flat little-endian uint32 token file
/// (<c>tokens.bin</c>, sequence i at offset i·seq_length·4) and an index (<c>index.json</c>: sequence
/// length and count, tokens used and dropped, tokenizer, sources); both written atomically.
/// </summary>
public sealed record PackedTokens(string Directory, int SequenceLength, int Sequences, long DocumentTokens, int DroppedTokens)
{
    public const string TokenFile = "tokens.bin";
    public const string IndexFile = "index.json";

    /// <summary>Packs the documents into <paramref name="directory"/>; <paramref name="progress"/> gets stage "tokenizing"
    /// (documents) every 256 documents and at the last.</summary>
    public static PackedTokens Pack(IReadOnlyList<string> documents, ITokenizer tokenizer, int sequenceLength, string directory,
        IReadOnlyList<string>? sources = null, IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (sequenceLength < 2) throw new ArgumentOutOfRangeException(nameof(sequenceLength), "Sequences need at least two tokens.");
        int eos = tokenizer.EosTokenId ?? throw new ArgumentException("The tokenizer has no EOS token to separate documents.");
        var stream = new List<uint>();
        for (int d = 0; d < documents.Count; d++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var id in tokenizer.Encode(documents[d])) stream.Add((uint)id);
            stream.Add((uint)eos);
            if (d % 256 == 255 || d == documents.Count - 1) progress?.Report(new StageProgress("tokenizing", d + 1, documents.Count, "documents"));
        }
        int sequences = stream.Count / sequenceLength;
        if (sequences == 0)
            throw new ArgumentException($"{stream.Count} tokens do not fill one sequence of {sequenceLength}.");
        System.IO.Directory.CreateDirectory(directory);
        var tokens = CollectionsMarshal.AsSpan(stream)[..(sequences * sequenceLength)].ToArray();
        AtomicFile.Write(Path.Combine(directory, TokenFile), fs => fs.Write(MemoryMarshal.AsBytes(tokens.AsSpan())));
        var packed = new PackedTokens(Path.GetFullPath(directory), sequenceLength, sequences, stream.Count, stream.Count - tokens.Length);
        var index = new JsonObject
        {
            ["format"] = "edgellm-packed-tokens/1",
            ["dtype"] = "uint32",
            ["seq_length"] = sequenceLength,
            ["sequences"] = sequences,
            ["document_tokens"] = stream.Count,
            ["dropped_tokens"] = packed.DroppedTokens,
            ["documents"] = documents.Count,
            ["eos_token_id"] = eos,
            ["vocab_size"] = tokenizer.VocabSize,
            ["sources"] = new JsonArray((sources ?? []).Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
        };
        AtomicFile.WriteAllText(Path.Combine(directory, IndexFile), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return packed;
    }

    /// <summary>Sequence <paramref name="index"/> of a packed folder, checked against its index.</summary>
    public static int[] ReadSequence(string directory, int index)
    {
        var indexPath = Path.Combine(directory, IndexFile);
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(indexPath)); }
        catch (JsonException e) { throw new FormatException($"{indexPath}: not valid JSON ({e.Message})."); }
        int length = node?["seq_length"]?.GetValue<int>() ?? throw new FormatException($"{indexPath}: seq_length is missing.");
        int count = node["sequences"]?.GetValue<int>() ?? throw new FormatException($"{indexPath}: sequences is missing.");
        var tokenPath = Path.Combine(directory, TokenFile);
        if (new FileInfo(tokenPath).Length != (long)length * count * 4)
            throw new FormatException($"{tokenPath}: {new FileInfo(tokenPath).Length} bytes, the index promises {count} × {length} uint32 tokens.");
        if ((uint)index >= (uint)count) throw new ArgumentOutOfRangeException(nameof(index), $"{directory} holds {count} sequences.");
        using var fs = File.OpenRead(tokenPath);
        fs.Position = (long)index * length * 4;
        var bytes = new byte[length * 4];
        fs.ReadExactly(bytes);
        return MemoryMarshal.Cast<byte, uint>(bytes).ToArray().Select(t => (int)t).ToArray();
    }
}
