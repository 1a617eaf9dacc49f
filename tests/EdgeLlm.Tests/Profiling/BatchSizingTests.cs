using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Profiling;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Profiling;

/// <summary>The batch and KV budget eval runs with, from this machine's free memory and the memory model.</summary>
public class BatchSizingTests
{
    [Fact]
    public void TheBudgetIsTheMemoryLeftAfterTheBatchsScratchInKvPositions()
    {
        using var model = CausalLM.Load(SharedData.Path("fixtures", "hf-tiny", "llama-float32"));
        var given = BatchSizing.Choose(model, maxBatch: 3, sequenceTokens: 300);
        Assert.Equal(3, given.Options.MaxBatch);
        Assert.False(given.Chosen);
        Assert.Equal(300, given.SequenceTokens);
        // float32 K and V: 2 · 3 layers · 2 kv heads · 32 = 384 values = 1,536 bytes per position.
        long perPosition = 2 * 3 * 2 * 32 * 4;
        var p = given.Prediction;
        Assert.Equal(3 * 300 * perPosition, p.KvCacheBytes);
        Assert.Equal(3 + 512, p.ActivationRows);
        Assert.Equal((given.UsableBytes - (p.TotalBytes - p.WeightBytes - p.KvCacheBytes)) / perPosition, given.Options.MaxKvTokens);
        Assert.True(given.UsableBytes > 0); // 90% of MemAvailable less the weights, which moves from one read to the next

        var chosen = BatchSizing.Choose(model, maxBatch: null, sequenceTokens: 100_000); // capped at the 512-token context
        Assert.True(chosen.Chosen);
        Assert.Equal(model.MaxContext, chosen.SequenceTokens);
        Assert.InRange(chosen.Options.MaxBatch, 1, BatchSizing.CpuCap);
        var atChosen = MemoryModel.Predict(model.Config, MemoryScenario.ContinuousBatch(chosen.Options.MaxBatch, model.MaxContext, 512, RuntimeProfile.EdgeLlmCpu));
        Assert.True(atChosen.TotalBytes - atChosen.WeightBytes <= chosen.UsableBytes || chosen.Options.MaxBatch == 1);
        Assert.Throws<ArgumentException>(() => BatchSizing.Choose(model, maxBatch: 0, sequenceTokens: 10));
    }

    [Fact]
    public void TheNoteSaysWhenTheWholeBatchCannotHoldItsKeysAndValuesAtOnce()
    {
        using var model = CausalLM.Load(SharedData.Path("fixtures", "hf-tiny", "llama-float32"));
        long perPosition = 2 * 3 * 2 * 32 * 4;
        var small = BatchSizing.Choose(model, maxBatch: 3, sequenceTokens: 300);
        Assert.Equal(perPosition, small.KvBytesPerPosition);
        Assert.True(small.FullBatchFits);
        Assert.DoesNotContain("wait for KV blocks", small.Note);
        Assert.Contains($"{small.Options.MaxKvTokens} positions (float32, {small.Options.MaxKvTokens * perPosition >> 20} MiB)", small.Note);
        // 2^24 sequences of 512 positions: 2^24 · 512 · 1,536 B = 12 TiB of keys and values, more than any machine's memory.
        var huge = BatchSizing.Choose(model, maxBatch: 1 << 24, sequenceTokens: 512);
        Assert.False(huge.FullBatchFits);
        Assert.Contains($"{1 << 24} sequences of 512 tokens at once would need {(1L << 24) * 512 * perPosition >> 20} MiB of keys and values", huge.Note);
    }
}
