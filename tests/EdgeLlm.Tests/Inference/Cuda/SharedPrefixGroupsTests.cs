using EdgeLlm.Inference.Backends.Cuda;

namespace EdgeLlm.Tests.Inference.Cuda;

/// <summary>
/// Which decode rows the CUDA backend attends to a shared prefix together, worked by hand on small block tables
/// (addresses are small numbers; 16 positions a block; at least 2 blocks in common).
/// </summary>
public class SharedPrefixGroupsTests
{
    private static List<SharedPrefixGroups.Group> Find(ulong[][] tables, int[] positions) =>
        SharedPrefixGroups.Find(tables, positions, blockTokens: 16, minSpan: 32);

    // A row at position 16·(blocks − 1) + 3 writes into its last block: only the blocks before it count.
    private static int At(ulong[] table) => 16 * (table.Length - 1) + 3;

    [Fact]
    public void RowsWithACommonRunFormOneGroupSpanningWhatAllOfThemShare()
    {
        ulong[][] tables =
        [
            [50, 51, 52, 93],         // 0: shares nothing with the others
            [1, 2, 3, 4, 6, 91],      // 1
            [1, 2, 3, 4, 5, 90],      // 2
            [1, 2, 3, 7, 92],         // 3
        ];
        var groups = Find(tables, tables.Select(At).ToArray());
        var group = Assert.Single(groups);
        Assert.Equal([2, 1, 3], group.Rows); // sorted by table: 2 (…, 4, 5) before 1 (…, 4, 6) before 3 (…, 3, 7)
        Assert.Equal(3 * 16, group.Span);
    }

    [Fact]
    public void ARowSharingLittleDoesNotShrinkALongSharedPrefix()
    {
        ulong[][] tables =
        [
            [1, 2, 3, 4, 5, 6, 7, 8, 100],
            [1, 2, 3, 4, 5, 6, 7, 8, 101],
            [1, 2, 200, 201],
        ];
        var group = Assert.Single(Find(tables, tables.Select(At).ToArray()));
        Assert.Equal([0, 1], group.Rows);
        Assert.Equal(8 * 16, group.Span);
    }

    [Fact]
    public void TheBlockARowWritesIsNeverPartOfTheSpan()
    {
        ulong[][] tables = [[1, 2, 3], [1, 2, 3]];
        // positions 40 and 47 lie in block 2: blocks 0 and 1 are below both
        var group = Assert.Single(Find(tables, [40, 47]));
        Assert.Equal(32, group.Span);
        // at positions 31 and 47 the first row has one whole block: less than the minimum
        Assert.Empty(Find(tables, [31, 47]));
    }

    [Fact]
    public void TwoSeparateSharedPrefixesGiveTwoGroups()
    {
        ulong[][] tables = [[9, 8, 7, 1], [1, 2, 3, 4], [9, 8, 7, 2], [1, 2, 3, 5], [1, 2, 6]];
        var groups = Find(tables, tables.Select(At).ToArray());
        Assert.Equal(2, groups.Count);
        Assert.Equal([1, 3, 4], groups[0].Rows);
        Assert.Equal(32, groups[0].Span); // row 4 has two whole blocks below its position
        Assert.Equal([0, 2], groups[1].Rows);
        Assert.Equal(48, groups[1].Span);
    }
}
