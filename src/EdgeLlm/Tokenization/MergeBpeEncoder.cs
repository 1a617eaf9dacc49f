using System.Buffers;

namespace EdgeLlm.Tokenization;

/// <summary>
/// Hugging Face BPE over a byte-level vocabulary: start from one symbol per byte and repeatedly apply the
/// listed merge with the lowest rank (leftmost on ties).
/// </summary>
internal sealed class MergeBpeEncoder : IWordEncoder
{
    private readonly int[] byteIds;
    private readonly Dictionary<long, (int Rank, int Id)> merges;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>>? wholeWordLookup;

    // ignoreMerges: emit a pre-token directly when the vocabulary holds it whole.
    public MergeBpeEncoder(Dictionary<string, int> vocab, Dictionary<long, (int Rank, int Id)> merges, bool ignoreMerges)
    {
        this.merges = merges;
        byteIds = new int[256];
        for (var b = 0; b < 256; b++)
            byteIds[b] = vocab.TryGetValue(ByteLevelAlphabet.ByteToChar[b].ToString(), out var id) ? id : -1;
        if (ignoreMerges) wholeWordLookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    public void Encode(ReadOnlySpan<byte> utf8, List<int> output)
    {
        if (utf8.IsEmpty) return;
        if (wholeWordLookup is { } lookup && utf8.Length <= 256)
        {
            Span<char> chars = stackalloc char[utf8.Length];
            ByteLevelAlphabet.ToByteLevel(utf8, chars);
            if (lookup.TryGetValue(chars, out var whole))
            {
                output.Add(whole);
                return;
            }
        }

        var pool = ArrayPool<int>.Shared;
        var ids = pool.Rent(utf8.Length);
        var ranks = pool.Rent(utf8.Length);
        var merged = pool.Rent(utf8.Length);
        try
        {
            var n = 0;
            foreach (var b in utf8)
                if (byteIds[b] >= 0) ids[n++] = byteIds[b];
            for (var i = 0; i + 1 < n; i++) SetPair(ids, ranks, merged, i);

            while (n > 1)
            {
                var best = BpePairs.Lowest(ranks.AsSpan(0, n - 1));
                if (best < 0) break;

                ids[best] = merged[best];
                var tail = n - best - 2;
                Array.Copy(ids, best + 2, ids, best + 1, tail);
                Array.Copy(ranks, best + 2, ranks, best + 1, Math.Max(0, tail - 1));
                Array.Copy(merged, best + 2, merged, best + 1, Math.Max(0, tail - 1));
                n--;
                if (best > 0) SetPair(ids, ranks, merged, best - 1);
                if (best + 1 < n) SetPair(ids, ranks, merged, best);
            }
            for (var i = 0; i < n; i++) output.Add(ids[i]);
        }
        finally
        {
            pool.Return(ids);
            pool.Return(ranks);
            pool.Return(merged);
        }
    }

    private void SetPair(int[] ids, int[] ranks, int[] merged, int i)
    {
        if (merges.TryGetValue(PairKey(ids[i], ids[i + 1]), out var m))
        {
            ranks[i] = m.Rank;
            merged[i] = m.Id;
        }
        else
        {
            ranks[i] = int.MaxValue;
        }
    }
}
