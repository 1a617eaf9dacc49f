using System.Text;
using System.Text.Json;
using Ml = Microsoft.ML.Tokenizers;

namespace EdgeLlm.Tokenization;

/// <summary>
/// Reads a Hugging Face tokenizer.json and configures Microsoft.ML.Tokenizers from it (vocabulary, merges, added
/// tokens, normalizer, split pattern): its byte-level <see cref="Ml.BpeTokenizer"/>, or for <c>ignore_merges</c> its
/// <see cref="Ml.TiktokenTokenizer"/> (see <see cref="RankOrderedVocabulary"/>). What the file asks for and cannot be
/// encoded exactly is refused with a <see cref="TokenizerFormatException"/> naming the file.
/// </summary>
internal static class HfTokenizerJson
{
    /// <summary>Reads the file; <paramref name="settings"/> is the config's BOS/EOS completed from the file's post_processor.</summary>
    public static TokenizerCore Load(string path, SpecialTokenSettings configured, out SpecialTokenSettings settings)
    {
        using var doc = JsonFiles.Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new TokenizerFormatException("expected a JSON object at the top level.", path);
        settings = PostProcessorTemplate.Apply(root, configured, path);
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new TokenizerFormatException("missing the 'model' object.", path);

        var modelType = OptionalString(model, "type", path);
        if (modelType is not null && modelType != "BPE")
            throw new TokenizerFormatException($"unsupported tokenizer model type '{modelType}' (only byte-level 'BPE' is supported).", path);
        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (OptionalString(model, affix, path) is { Length: > 0 } value)
                throw new TokenizerFormatException($"unsupported BPE option {affix}='{value}'.", path);

        var vocab = ReadVocab(model, path);
        var merges = ReadMerges(model, vocab, path);
        var added = ReadAddedTokens(root, path);
        var normalizer = ReadNormalizer(root, path);
        var stages = ReadPreTokenizers(root, path);
        CheckDecoder(root, path);

        var ignoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True;
        var preTokenizer = new HfPreTokenizer(added.Count > 0 ? new AddedTokenSplitter(added) : null, stages);
        if (ignoreMerges)
            return new TokenizerCore(RankTokenizer(vocab, merges, added, preTokenizer, normalizer, path), preTokenizer, vocab, added, settings);
        var options = new Ml.BpeOptions(vocab)
        {
            Merges = merges,
            SpecialTokens = AddedTokenIds(added),
            Normalizer = normalizer,
            PreTokenizer = preTokenizer,
            ByteLevel = true,
        };
        Ml.BpeTokenizer bpe;
        try
        {
            bpe = Ml.BpeTokenizer.Create(options);
        }
        catch (InvalidOperationException e)
        {
            throw new TokenizerFormatException($"Microsoft.ML.Tokenizers refused the BPE model: {e.Message}", path, null, e);
        }
        return new TokenizerCore(bpe, preTokenizer, vocab, added, settings);
    }

    private static Ml.TiktokenTokenizer RankTokenizer(Dictionary<string, int> vocab, List<string> merges,
        List<AddedToken> added, HfPreTokenizer preTokenizer, TextNormalizer? normalizer, string path)
    {
        if (RankOrderedVocabulary.Mismatch(vocab, merges) is { } why)
            throw new TokenizerFormatException($"ignore_merges is true but the merges are not the vocabulary's own ({why}); Microsoft.ML.Tokenizers can only encode such a file by rank.", path);
        if (vocab.Keys.FirstOrDefault(t => !ByteLevelAlphabet.IsByteLevel(t)) is { } odd)
            throw new TokenizerFormatException($"model.vocab token '{odd}' is not in the byte-level alphabet.", path);
        using var tiktoken = RankOrderedVocabulary.ToTiktoken(vocab);
        try
        {
            return Ml.TiktokenTokenizer.Create(tiktoken, preTokenizer, normalizer, AddedTokenIds(added));
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new TokenizerFormatException($"Microsoft.ML.Tokenizers refused the vocabulary: {e.Message}", path, null, e);
        }
    }

    /// <summary>Added tokens by content; a content listed twice keeps its first id, as the splitter does.</summary>
    internal static Dictionary<string, int> AddedTokenIds(IEnumerable<AddedToken> added)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in added) ids.TryAdd(t.Content, t.Id);
        return ids;
    }

    private static Dictionary<string, int> ReadVocab(JsonElement model, string path)
    {
        if (!model.TryGetProperty("vocab", out var vocabJson) || vocabJson.ValueKind != JsonValueKind.Object)
            throw new TokenizerFormatException("model.vocab must be an object of token → id.", path);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabJson.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
                throw new TokenizerFormatException($"model.vocab['{entry.Name}'] is not a non-negative integer id.", path);
            vocab[entry.Name] = id;
        }
        return vocab;
    }

    /// <summary>The merges as the library reads them ("left right"), in rank order; a pair listed again is dropped.</summary>
    private static List<string> ReadMerges(JsonElement model, Dictionary<string, int> vocab, string path)
    {
        var merges = new List<string>();
        if (!model.TryGetProperty("merges", out var mergesJson) || mergesJson.ValueKind == JsonValueKind.Null) return merges;
        if (mergesJson.ValueKind != JsonValueKind.Array)
            throw new TokenizerFormatException("model.merges must be an array.", path);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var lookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        var rank = 0;
        foreach (var merge in mergesJson.EnumerateArray())
        {
            var joined = MergeText(merge, rank, path);
            var space = joined.IndexOf(' ');
            Span<char> made = joined.Length <= 256 ? stackalloc char[joined.Length - 1] : new char[joined.Length - 1];
            joined.AsSpan(0, space).CopyTo(made);
            joined.AsSpan(space + 1).CopyTo(made[space..]);
            if (!lookup.ContainsKey(joined.AsSpan(0, space)) || !lookup.ContainsKey(joined.AsSpan(space + 1)) || !lookup.ContainsKey(made))
                throw new TokenizerFormatException($"merge #{rank} ('{joined[..space]}' '{joined[(space + 1)..]}') uses a token missing from model.vocab.", path);
            if (seen.Add(joined)) merges.Add(joined);
            rank++;
        }
        return merges;
    }

    /// <summary>A merge as "left right": given so, or as ["left", "right"] (whose parts may then hold no space).</summary>
    private static string MergeText(JsonElement merge, int rank, string path)
    {
        if (merge.ValueKind == JsonValueKind.String)
        {
            var text = merge.GetString()!;
            var space = text.IndexOf(' ', 1);
            if (space > 0 && space < text.Length - 1 && text.IndexOf(' ', space + 1) < 0) return text;
        }
        else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2 &&
                 merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
        {
            var (left, right) = (merge[0].GetString()!, merge[1].GetString()!);
            if (left.Length > 0 && right.Length > 0 && !left.Contains(' ') && !right.Contains(' ')) return left + " " + right;
            if (left.Contains(' ') || right.Contains(' '))
                throw new TokenizerFormatException($"merge #{rank} ('{left}' '{right}') has a token containing a space, which Microsoft.ML.Tokenizers' merge format cannot hold.", path);
        }
        throw new TokenizerFormatException($"merge #{rank} is neither \"left right\" nor [\"left\", \"right\"]: {merge.GetRawText()}", path);
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement root, string path)
    {
        var result = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var list) || list.ValueKind == JsonValueKind.Null) return result;
        if (list.ValueKind != JsonValueKind.Array)
            throw new TokenizerFormatException("added_tokens must be an array.", path);
        foreach (var t in list.EnumerateArray())
        {
            if (!t.TryGetProperty("id", out var idJson) || !idJson.TryGetInt32(out var id) || id < 0 ||
                OptionalString(t, "content", path) is not { } content)
                throw new TokenizerFormatException($"added token without an integer 'id' and string 'content': {t.GetRawText()}", path);
            result.Add(new AddedToken(id, content, Bool(t, "special"), Bool(t, "lstrip"), Bool(t, "rstrip"),
                Bool(t, "single_word"), Bool(t, "normalized")));
        }
        return result;
    }

    private static TextNormalizer? ReadNormalizer(JsonElement root, string path)
    {
        if (!root.TryGetProperty("normalizer", out var n) || n.ValueKind == JsonValueKind.Null) return null;
        var forms = new List<NormalizationForm>();
        AddNormalizer(n, forms, path);
        return forms.Count > 0 ? new TextNormalizer(forms) : null;
    }

    private static void AddNormalizer(JsonElement n, List<NormalizationForm> forms, string path)
    {
        var type = OptionalString(n, "type", path);
        switch (type)
        {
            case "NFC": forms.Add(NormalizationForm.FormC); break;
            case "NFD": forms.Add(NormalizationForm.FormD); break;
            case "NFKC": forms.Add(NormalizationForm.FormKC); break;
            case "NFKD": forms.Add(NormalizationForm.FormKD); break;
            case "Sequence":
                if (!n.TryGetProperty("normalizers", out var items) || items.ValueKind != JsonValueKind.Array)
                    throw new TokenizerFormatException("normalizer Sequence without a 'normalizers' array.", path);
                foreach (var item in items.EnumerateArray()) AddNormalizer(item, forms, path);
                break;
            default:
                throw new TokenizerFormatException($"unsupported normalizer '{type}' (supported: NFC, NFD, NFKC, NFKD, Sequence).", path);
        }
    }

    private static IPreTokenizer[] ReadPreTokenizers(JsonElement root, string path)
    {
        var stages = new List<IPreTokenizer>();
        var byteLevel = false;
        if (root.TryGetProperty("pre_tokenizer", out var p) && p.ValueKind != JsonValueKind.Null)
            AddPreTokenizer(p, stages, ref byteLevel, path);
        if (!byteLevel)
            throw new TokenizerFormatException("unsupported pre_tokenizer: a ByteLevel pre-tokenizer is required (only byte-level BPE is supported).", path);
        return stages.ToArray();
    }

    private static void AddPreTokenizer(JsonElement p, List<IPreTokenizer> stages, ref bool byteLevel, string path)
    {
        var type = OptionalString(p, "type", path);
        switch (type)
        {
            case "ByteLevel":
                byteLevel = true;
                if (p.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True)
                    throw new TokenizerFormatException("unsupported pre_tokenizer ByteLevel with add_prefix_space=true.", path);
                var useRegex = !p.TryGetProperty("use_regex", out var ur) || ur.ValueKind != JsonValueKind.False;
                if (useRegex) stages.Add(new Gpt2PatternScanner());
                break;
            case "Split":
                stages.Add(ReadSplit(p, path));
                break;
            case "Sequence":
                if (!p.TryGetProperty("pretokenizers", out var items) || items.ValueKind != JsonValueKind.Array)
                    throw new TokenizerFormatException("pre_tokenizer Sequence without a 'pretokenizers' array.", path);
                foreach (var item in items.EnumerateArray()) AddPreTokenizer(item, stages, ref byteLevel, path);
                break;
            default:
                throw new TokenizerFormatException($"unsupported pre_tokenizer '{type}' (supported: ByteLevel, Split, Sequence).", path);
        }
    }

    private static IPreTokenizer ReadSplit(JsonElement p, string path)
    {
        var behavior = OptionalString(p, "behavior", path);
        if (behavior != "Isolated")
            throw new TokenizerFormatException($"unsupported pre_tokenizer Split behavior '{behavior}' (only 'Isolated').", path);
        if (p.TryGetProperty("invert", out var inv) && inv.ValueKind == JsonValueKind.True)
            throw new TokenizerFormatException("unsupported pre_tokenizer Split with invert=true.", path);
        if (!p.TryGetProperty("pattern", out var pattern) || pattern.ValueKind != JsonValueKind.Object)
            throw new TokenizerFormatException("pre_tokenizer Split without a 'pattern' object.", path);
        if (OptionalString(pattern, "Regex", path) is { } regex)
        {
            try
            {
                return SplitPatterns.For(regex);
            }
            catch (ArgumentException e)
            {
                throw new TokenizerFormatException($"pre_tokenizer Split regex cannot be compiled: {e.Message}", path, null, e);
            }
        }
        if (OptionalString(pattern, "String", path) is { } literal)
            return SplitPatterns.For(System.Text.RegularExpressions.Regex.Escape(literal));
        throw new TokenizerFormatException("pre_tokenizer Split pattern needs 'Regex' or 'String'.", path);
    }

    private static void CheckDecoder(JsonElement root, string path)
    {
        if (!root.TryGetProperty("decoder", out var d) || d.ValueKind == JsonValueKind.Null) return;
        var type = OptionalString(d, "type", path);
        if (type != "ByteLevel")
            throw new TokenizerFormatException($"unsupported decoder '{type}' (only ByteLevel).", path);
    }

    private static string? OptionalString(JsonElement obj, string name, string path)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String)
            throw new TokenizerFormatException($"'{name}' must be a string, found {v.ValueKind}.", path);
        return v.GetString();
    }

    private static bool Bool(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
}
