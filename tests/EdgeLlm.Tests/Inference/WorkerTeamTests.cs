using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Tests.Inference;

/// <summary>The engine's parallel loop: every iteration once, failures reported after the loop has settled, no deadlock when loops nest or overlap.</summary>
public class WorkerTeamTests
{
    [Fact]
    public void EveryIterationRunsExactlyOnce()
    {
        for (int round = 0; round < 200; round++)
        {
            var counts = new int[round * 7 + 3];
            WorkerTeam.For(0, counts.Length, i => Interlocked.Increment(ref counts[i]));
            Assert.All(counts, c => Assert.Equal(1, c));
        }
    }

    [Fact]
    public void AnOffsetRangeRunsOnlyItsOwnIterations()
    {
        var seen = new System.Collections.Concurrent.ConcurrentBag<int>();
        WorkerTeam.For(5, 40, seen.Add);
        Assert.Equal(Enumerable.Range(5, 35), seen.Order());
    }

    [Fact]
    public void AFailureReachesTheCallerAfterEveryStartedIterationHasEnded()
    {
        int running = 0, finished = 0;
        var e = Assert.Throws<InvalidOperationException>(() => WorkerTeam.For(0, 64, i =>
        {
            Interlocked.Increment(ref running);
            try
            {
                if (i == 3) throw new InvalidOperationException("iteration 3 failed");
                Thread.Sleep(2);
            }
            finally
            {
                Interlocked.Decrement(ref running);
                Interlocked.Increment(ref finished);
            }
        }));
        Assert.Equal("iteration 3 failed", e.Message);
        Assert.Equal(0, Volatile.Read(ref running));
        Assert.True(finished < 64, $"all {finished} iterations ran although iteration 3 failed");
        // The team is usable again afterwards.
        var counts = new int[50];
        WorkerTeam.For(0, counts.Length, i => counts[i]++);
        Assert.All(counts, c => Assert.Equal(1, c));
    }

    [Fact]
    public void NestedLoopsComplete()
    {
        var counts = new int[16 * 16];
        WorkerTeam.For(0, 16, i => WorkerTeam.For(0, 16, j => Interlocked.Increment(ref counts[i * 16 + j])));
        Assert.All(counts, c => Assert.Equal(1, c));
    }

    [Fact]
    public void LoopsFromManyThreadsAtOnceComplete()
    {
        var totals = new long[8];
        var callers = Enumerable.Range(0, totals.Length).Select(t => new Thread(() =>
        {
            for (int round = 0; round < 100; round++)
                WorkerTeam.For(0, 33, i => Interlocked.Add(ref totals[t], i));
        })).ToList();
        callers.ForEach(c => c.Start());
        callers.ForEach(c => Assert.True(c.Join(TimeSpan.FromMinutes(1)), "a caller did not finish"));
        Assert.All(totals, total => Assert.Equal(100L * (32 * 33 / 2), total));
    }
}
