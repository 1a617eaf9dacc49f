using System.Buffers;

namespace EdgeLlm.Tokenization;

/// <summary>
/// tiktoken BPE: repeatedly join the adjacent pair whose concatenated bytes have the lowest rank (leftmost on
/// ties); the rank of a token is its id. Tokens are keyed by their bytes widened one-to-one into chars, so a
/// candidate pair is a contiguous span of the word and needs no allocation.
/// </summary>
internal sealed class RankBpeEncoder(Dictionary<string, int> ranksByLatin1) : IWordEncoder
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup =
        ranksByLatin1.GetAlternateLookup<ReadOnlySpan<char>>();

    public static string ToKey(ReadOnlySpan<byte> bytes) =>
        string.Create(bytes.Length, bytes.ToArray(), static (dst, src) =>
        {
            for (var i = 0; i < src.Length; i++) dst[i] = (char)src[i];
        });

    public void Encode(ReadOnlySpan<byte> utf8, List<int> output)
    {
        if (utf8.IsEmpty) return;
        var charPool = ArrayPool<char>.Shared;
        var intPool = ArrayPool<int>.Shared;
        var word = charPool.Rent(utf8.Length);
        var starts = intPool.Rent(utf8.Length + 1);
        var ranks = intPool.Rent(utf8.Length);
        try
        {
            for (var i = 0; i < utf8.Length; i++) word[i] = (char)utf8[i];
            var text = word.AsSpan(0, utf8.Length);
            if (lookup.TryGetValue(text, out var whole))
            {
                output.Add(whole);
                return;
            }

            var parts = utf8.Length;
            for (var i = 0; i <= parts; i++) starts[i] = i;
            for (var i = 0; i + 1 < parts; i++) ranks[i] = PairRank(text, starts, i);

            while (parts > 1)
            {
                var best = BpePairs.Lowest(ranks.AsSpan(0, parts - 1));
                if (best < 0) break;

                Array.Copy(starts, best + 2, starts, best + 1, parts - best - 1);
                Array.Copy(ranks, best + 2, ranks, best + 1, Math.Max(0, parts - best - 3));
                parts--;
                if (best > 0) ranks[best - 1] = PairRank(text, starts, best - 1);
                if (best + 1 < parts) ranks[best] = PairRank(text, starts, best);
            }

            for (var i = 0; i < parts; i++)
            {
                if (!lookup.TryGetValue(text[starts[i]..starts[i + 1]], out var id))
                    throw new InvalidOperationException("The tiktoken vocabulary lacks a single-byte token.");
                output.Add(id);
            }
        }
        finally
        {
            charPool.Return(word);
            intPool.Return(starts);
            intPool.Return(ranks);
        }
    }

    private int PairRank(ReadOnlySpan<char> text, int[] starts, int i) =>
        lookup.TryGetValue(text[starts[i]..starts[i + 2]], out var rank) ? rank : int.MaxValue;
}
