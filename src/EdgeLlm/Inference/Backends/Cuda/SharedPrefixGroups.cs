namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>
/// Decode rows whose block tables begin with the same blocks (a shared prompt prefix: <see cref="PagedKvStorage.Share"/>),
/// gathered so that one attention pass over those blocks serves every row of a group (kernels/paged_attention.cu
/// be_paged_attention_prefix reads the prefix once per group instead of once per row).
/// </summary>
internal static class SharedPrefixGroups
{
    /// <summary>Rows (indices into the decode rows) that hold the same first <paramref name="Span"/> positions' blocks.</summary>
    public readonly record struct Group(int[] Rows, int Span);

    /// <summary>
    /// Groups of at least two rows sharing at least <paramref name="minSpan"/> positions. A row counts only the blocks wholly
    /// below its own position (the block it writes is its own: a shared one is copied before a write). Rows are sorted by
    /// their tables, so rows with a long common run lie together; a group takes the next row while their common run is at
    /// least <paramref name="minSpan"/> and at least half the group's span so far (one row sharing little does not shrink a
    /// long shared prefix to its few blocks: it starts a group of its own).
    /// </summary>
    public static List<Group> Find(IReadOnlyList<IReadOnlyList<ulong>> tables, IReadOnlyList<int> positions, int blockTokens, int minSpan)
    {
        if (tables.Count != positions.Count) throw new ArgumentException("One position per table.", nameof(positions));
        int minBlocks = Math.Max(1, (minSpan + blockTokens - 1) / blockTokens);
        var usable = new int[tables.Count];
        var candidates = new List<int>();
        for (int r = 0; r < tables.Count; r++)
        {
            usable[r] = Math.Min(tables[r].Count, positions[r] / blockTokens);
            if (usable[r] >= minBlocks) candidates.Add(r);
        }
        candidates.Sort((a, b) =>
        {
            int n = Math.Min(usable[a], usable[b]);
            for (int i = 0; i < n; i++)
            {
                int c = tables[a][i].CompareTo(tables[b][i]);
                if (c != 0) return c;
            }
            return usable[a] != usable[b] ? usable[b].CompareTo(usable[a]) : a.CompareTo(b); // the longer first: it heads the group
        });
        var groups = new List<Group>();
        int start = 0;
        while (start < candidates.Count)
        {
            int head = candidates[start], span = usable[head], end = start + 1;
            for (; end < candidates.Count; end++)
            {
                int common = CommonBlocks(tables[head], tables[candidates[end]], Math.Min(span, usable[candidates[end]]));
                if (common < minBlocks || 2 * common < span) break;
                span = common;
            }
            if (end - start >= 2) groups.Add(new Group(candidates.GetRange(start, end - start).ToArray(), span * blockTokens));
            start = end;
        }
        return groups;
    }

    private static int CommonBlocks(IReadOnlyList<ulong> a, IReadOnlyList<ulong> b, int limit)
    {
        int i = 0;
        while (i < limit && a[i] == b[i]) i++;
        return i;
    }
}
