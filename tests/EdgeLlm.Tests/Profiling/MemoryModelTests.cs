using EdgeLlm.Checkpoints;
using EdgeLlm.Profiling;

namespace EdgeLlm.Tests.Profiling;

public class MemoryModelTests
{
    private static ModelConfig Preset(string name) => ModelConfig.Parse(ModelPresets.Config(name));

    [Fact]
    public void Llama3KvCacheAt4096Fp16()
    {
        // Llama-3-8B: 32 layers, 8 KV heads, head_dim 128. K and V: 2 · 32 · 8 · 128 · 4096 · 2 B = 536,870,912.
        Assert.Equal(536_870_912L, MemoryModel.KvCacheBytes(Preset("llama-3-8b"), 4096, 1, DType.F16));
        // EdgeLlm's engine keeps float32 K/V: twice that; batch 2 doubles again.
        Assert.Equal(2_147_483_648L, MemoryModel.KvCacheBytes(Preset("llama-3-8b"), 4096, 2, DType.F32));
    }

    [Fact]
    public void Phi2OnMlcAt2048AddsWeightsKvActivations()
    {
        // weights 2,779,683,840 params · 2 B = 5,559,367,680
        // KV: 2 · 32 layers · 32 kv heads · 80 · 2048 · 2 B = 671,088,640
        // activations, 2048 rows (the whole prompt fits MLC's 2048 chunk), Phi per row:
        //   x, h, attn_out (3·2560) + q, attn (2·2560) + k, v (2·2560) + fc1 (10240) = 28,160 values
        //   2048 · 28,160 = 57,671,680; scores 1 thread · 2048; logits 51,200 → 57,724,928 values · 2 B = 115,449,856
        // overhead 0 (unmeasured for MLC) → 6,345,906,176
        var p = MemoryModel.Predict(Preset("phi-2"), new MemoryScenario { Context = 2048, Runtime = RuntimeProfile.MlcLlmAndroid, Threads = 1 });
        Assert.Equal(5_559_367_680L, p.WeightBytes);
        Assert.Equal(671_088_640L, p.KvCacheBytes);
        Assert.Equal(115_449_856L, p.ActivationBytes);
        Assert.Equal(6_345_906_176L, p.TotalBytes);
        Assert.Equal("float16", p.KvDType);
    }

    [Fact]
    public void Llama3InFp16DoesNotFitThe12GbPhone()
    {
        // 8,030,261,248 · 2 B = 16,060,522,496 of weights alone exceed 12 GiB = 12,884,901,888.
        var p = MemoryModel.Predict(Preset("llama-3-8b"), new MemoryScenario { Context = 4096, Runtime = RuntimeProfile.MlcLlmAndroid, Threads = 1 });
        var fit = MemoryModel.Fit(p, DeviceProfile.Resolve("phone-12gb"));
        Assert.False(fit.Fits);
        Assert.Equal(12_884_901_888L - p.TotalBytes, fit.MarginBytes);
        Assert.True(p.TotalBytes > 16_060_522_496L + 536_870_912L);
    }

    [Fact]
    public void StoredBytesReplaceTheDtypeEstimateAndKvDtypeCanBeOverridden()
    {
        var p = MemoryModel.Predict(Preset("llama-3-8b"), new MemoryScenario { Context = 4096, WeightBytes = 1000, KvDType = DType.F32, Threads = 1 });
        Assert.Equal(1000, p.WeightBytes);
        Assert.Equal(2 * 536_870_912L, p.KvCacheBytes);
        Assert.Equal("stored", p.WeightDType);
    }

    [Fact]
    public void BadScenarioIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => MemoryModel.Predict(Preset("phi-2"), new MemoryScenario { Context = 0 }));
        Assert.Contains("Context (0)", e.Message);
    }

    [Fact]
    public void ContinuousBatchOfLlama3OnCudaWorkedByHand()
    {
        // Llama-3-8B, 16 sequences of 2,560 positions, steps of 16 decode rows + a 512-token prompt chunk, float16 weights, edgellm-cuda:
        //   paged KV: a block is 2 · 16 positions · 32 layers · 8 kv heads · 128 · 2 B = 2,097,152 B, 128 to a 256 MiB slab;
        //     16 · 2,560 / 16 = 2,560 blocks = 20 slabs = 5,368,709,120 (no rounding at these sizes)
        //   backend scratch for 528 rows, each buffer asked + a quarter:
        //     x, h, q, attn 528 · 4,096 · 4 B = 8,650,752 → 10,813,440 (×4); k, v 528 · 1,024 · 4 = 2,162,688 → 2,703,360 (×2);
        //     gate, up 528 · 14,336 · 4 = 30,277,632 → 37,847,040 (×2): 124,354,560
        //     float16 GEMM input, widest input 14,336: 528 · 14,336 · 2 = 15,138,816 → 18,923,520
        //     covering product of q|k (rotary-permuted rows; v, gate and up are products of their own): 528 · 5,120 · 4 = 10,813,440 → 13,516,800
        //     greedy head for 16 sequences: rows, tokens 64 B → 256 each; hidden 262,144 → 327,680; logits 16 · 128,256 · 4 = 8,208,384 → 10,260,480
        //     prompt-chunk attention: keys and values 2,560 · 1,024 · 2 = 5,242,880 → 6,553,600 (×2), queries 528 · 4,096 · 2 =
        //     4,325,376 → 5,406,720, outputs 8,650,752 → 10,813,440, scores 2^23 · 4 → 41,943,040, probabilities → 20,971,520
        //     → 167,383,552 + 92,241,920 = 259,625,472
        //   cuBLAS workspace 33,554,432; overhead 512 MiB = 536,870,912
        //   → 16,060,522,496 + 5,368,709,120 + 259,625,472 + 33,554,432 + 536,870,912 = 22,259,282,432
        var config = Preset("llama-3-8b");
        MemoryScenario Scenario(int b) => MemoryScenario.ContinuousBatch(b, 2560, 512, RuntimeProfile.EdgeLlmCuda, 16_060_522_496);
        var p = MemoryModel.Predict(config, Scenario(16));
        Assert.Equal(5_368_709_120L, p.KvCacheBytes);
        Assert.Equal(528, p.ActivationRows);
        Assert.Equal(259_625_472L, p.ActivationBytes);
        Assert.Equal(33_554_432L, p.WorkspaceBytes);
        Assert.Equal(22_259_282_432L, p.TotalBytes);
        Assert.Equal(22_259_282_432L - 536_870_912L, p.AllocatedBytes);
        // Besides the weights, 28 sequences take 4,480 blocks = 35 slabs (9,395,240,960) + scratch for 540 rows (271,498,752)
        // + workspace + overhead = 10,237,165,056 ≤ 10 GiB; 29 take 37 slabs (9,932,111,872) + 272,488,192 + ... > 10 GiB.
        Assert.Equal(28, MemoryModel.LargestBatch(config, Scenario, 10L << 30, cap: 256));
        Assert.Equal(12, MemoryModel.LargestBatch(config, Scenario, 10L << 30, cap: 12));
        // One sequence: 160 blocks = 2 slabs (536,870,912) + 244,783,872 of scratch + 570,425,344 = 1,352,080,128.
        Assert.Equal(0, MemoryModel.LargestBatch(config, Scenario, 1_352_080_127, cap: 256));
        Assert.Equal(1, MemoryModel.LargestBatch(config, Scenario, 1_352_080_128, cap: 256));
    }
}
