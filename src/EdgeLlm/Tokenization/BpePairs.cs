using System.Runtime.CompilerServices;

namespace EdgeLlm.Tokenization;

/// <summary>The merge rule both BPE encoders share: the adjacent pair of lowest rank, leftmost on ties.</summary>
internal static class BpePairs
{
    /// <summary>Index of the pair to merge next, or -1 when no pair has a rank (every entry is <see cref="int.MaxValue"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Lowest(ReadOnlySpan<int> ranks)
    {
        var best = -1;
        var bestRank = int.MaxValue;
        for (var i = 0; i < ranks.Length; i++)
        {
            if (ranks[i] < bestRank)
            {
                bestRank = ranks[i];
                best = i;
            }
        }
        return best;
    }
}
