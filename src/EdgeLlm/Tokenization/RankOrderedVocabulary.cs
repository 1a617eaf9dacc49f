using System.Text;

namespace EdgeLlm.Tokenization;

/// <summary>
/// tokenizer.json's <c>ignore_merges</c> (Llama-3): a pre-token the vocabulary holds whole is emitted as that one
/// token. Microsoft.ML.Tokenizers' BpeTokenizer has no such rule (it gave other ids for 588 Llama-3 tokens, e.g.
/// " việc", " jeho"), but its TiktokenTokenizer's rule is exactly that look-up followed by merging the adjacent
/// pair of lowest rank. That equals Hugging Face's merge order when the merges are the vocabulary's own: listed in
/// the order of the ids they make, and every split of a token into two tokens listed, as in a vocabulary converted
/// from tiktoken. Such a vocabulary is handed to the library as a tiktoken file with rank = id.
/// </summary>
internal static class RankOrderedVocabulary
{
    /// <summary>Why the merges are not the vocabulary's own, or null when they are.</summary>
    public static string? Mismatch(Dictionary<string, int> vocab, IReadOnlyList<string> merges)
    {
        var lookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        var listed = new HashSet<long>(merges.Count);
        var previous = -1;
        for (var rank = 0; rank < merges.Count; rank++)
        {
            // "left right" without the space is the token the merge makes.
            var merge = merges[rank];
            var space = merge.IndexOf(' ');
            Span<char> joined = merge.Length <= 256 ? stackalloc char[merge.Length - 1] : new char[merge.Length - 1];
            merge.AsSpan(0, space).CopyTo(joined);
            merge.AsSpan(space + 1).CopyTo(joined[space..]);
            var made = lookup[joined];
            if (made < previous) return $"merge #{rank} makes id {made}, lower than the id {previous} made by an earlier merge";
            previous = made;
            listed.Add(Pair(lookup[merge.AsSpan(0, space)], lookup[merge.AsSpan(space + 1)]));
        }
        foreach (var (token, _) in vocab)
        {
            for (var k = 1; k < token.Length; k++)
            {
                if (lookup.TryGetValue(token.AsSpan(0, k), out var l) && lookup.TryGetValue(token.AsSpan(k), out var r) &&
                    !listed.Contains(Pair(l, r)))
                    return $"'{token[..k]}' '{token[k..]}' makes the token '{token}' but is not among the merges";
            }
        }
        return null;
    }

    /// <summary>The vocabulary as tiktoken text ("base64-of-bytes id" lines), for the library's TiktokenTokenizer.</summary>
    public static MemoryStream ToTiktoken(Dictionary<string, int> vocab)
    {
        var text = new StringBuilder(vocab.Count * 16);
        foreach (var (token, id) in vocab.OrderBy(e => e.Value))
            text.Append(Convert.ToBase64String(ByteLevelAlphabet.ToBytes(token))).Append(' ').Append(id).Append('\n');
        return new MemoryStream(Encoding.UTF8.GetBytes(text.ToString()));
    }

    private static long Pair(int left, int right) => ((long)left << 32) | (uint)right;
}
