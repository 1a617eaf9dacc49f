using EdgeLlm.Pruning;

namespace EdgeLlm.Tests.Pruning;

/// <summary>FLAP's AL-AM allocation worked by hand on two layers of two KV groups (two columns each) and three MLP channels.</summary>
public class FlapGlobalAllocationTests
{
    // Layer 0 columns 1,3,5,7: mean 4, sample variance (9+1+1+9)/3 = 20/3, std 2.5820 → z −1.1619 −0.3873 0.3873 1.1619;
    //   group 0 = mean(−1.1619, −0.3873) = −0.7746, group 1 = +0.7746.
    // Layer 1 columns 2,2,2,10: mean 4, variance (4+4+4+36)/3 = 16, std 4 → z −0.5 −0.5 −0.5 1.5; groups −0.5, +0.5.
    private static readonly double[][] Columns = [[1, 3, 5, 7], [2, 2, 2, 10]];
    // Layer 0 channels 1,2,3: mean 2, std 1 → −1, 0, 1.
    // Layer 1 channels 10,10,40: mean 20, variance (100+100+400)/2 = 300, std 17.3205 → −0.5774, −0.5774, 1.1547.
    private static readonly double[][] Channels = [[1, 2, 3], [10, 10, 40]];
    private const double GroupWeight = 2; // a group carries the parameters of two channels

    [Fact]
    public void StandardisedScoresAndThresholdMatchTheHandWorkedExample()
    {
        // All ten structures sorted by standardised score, with the running weight (groups 2, channels 1); total 14:
        //   L1c2 1.1547 (1), L0c2 1 (2), L0g1 0.7746 (4), L1g1 0.5 (6), L0c1 0 (7), L1g0 −0.5 (9), L1c0 −0.5774 (10),
        //   L1c1 −0.5774 (11), L0g0 −0.7746 (13), L0c0 −1 (14).
        // Ratio 0.25: target 14 × 0.75 = 10.5; |running − 10.5| is smallest (0.5) first at L1c0, so the threshold is −0.5774
        // and only scores strictly above it stay: L0 keeps group 1 and channels 1, 2; L1 keeps both groups and channel 2.
        var a = FlapGlobalAllocation.Allocate(Columns, columnsPerGroup: 2, Channels, GroupWeight, ratio: 0.25);
        Assert.Equal(-0.7746, a.GroupScores![0][0], 4);
        Assert.Equal(0.7746, a.GroupScores[0][1], 4);
        Assert.Equal([-0.5, 0.5], a.GroupScores[1]);
        Assert.Equal(-1, a.ChannelScores[0][0], 10);
        Assert.Equal(1.1547, a.ChannelScores[1][2], 4);
        Assert.Equal(-0.5774, a.Threshold, 4);
        Assert.Equal([[1], [0, 1]], a.KeptGroups!);
        Assert.Equal([[1, 2], [2]], a.KeptChannels);
        Assert.Empty(a.RescuedLayers);
    }

    [Fact]
    public void ALayerLeftWithNothingKeepsItsBestStructure()
    {
        // Ratio 0.9: target 1.4; running weights 1 (gap 0.4), 2 (gap 0.6) … → threshold 1.1547 (L1c2), and nothing is strictly above it.
        // Every layer would lose all groups and channels; each keeps its best one instead (L0 group 1, L1 group 1, channel 2 in both).
        var a = FlapGlobalAllocation.Allocate(Columns, 2, Channels, GroupWeight, 0.9);
        Assert.Equal(1.1547, a.Threshold, 4);
        Assert.Equal([[1], [1]], a.KeptGroups!);
        Assert.Equal([[2], [2]], a.KeptChannels);
        Assert.Equal([0, 1], a.RescuedLayers);
    }

    [Fact]
    public void WithoutHeadsOnlyChannelsAreAllocated()
    {
        // Channels only, weight 1 each, total 6, ratio 0.5 → target 3: running 1, 2, 3 (gap 0) at L0c1 (score 0): keep L1c2 and L0c2.
        var a = FlapGlobalAllocation.Allocate(null, 2, Channels, GroupWeight, 0.5);
        Assert.Null(a.KeptGroups);
        Assert.Equal(0, a.Threshold, 10);
        Assert.Equal([[2], [2]], a.KeptChannels);
    }

    [Fact]
    public void ConstantScoresStandardiseToZero() =>
        Assert.Equal([0.0, 0.0, 0.0], FlapGlobalAllocation.Standardise([5, 5, 5]));
}
