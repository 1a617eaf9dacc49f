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
        //     → 167,383,552
        //   cuBLAS workspace 33,554,432; overhead 512 MiB = 536,870,912
        //   → 16,060,522,496 + 5,368,709,120 + 167,383,552 + 33,554,432 + 536,870,912 = 22,167,040,512
        var config = Preset("llama-3-8b");
        MemoryScenario Scenario(int b) => MemoryScenario.ContinuousBatch(b, 2560, 512, RuntimeProfile.EdgeLlmCuda, 16_060_522_496);
        var p = MemoryModel.Predict(config, Scenario(16));
        Assert.Equal(5_368_709_120L, p.KvCacheBytes);
        Assert.Equal(528, p.ActivationRows);
        Assert.Equal(167_383_552L, p.ActivationBytes);
        Assert.Equal(33_554_432L, p.WorkspaceBytes);
        Assert.Equal(22_167_040_512L, p.TotalBytes);
        Assert.Equal(22_167_040_512L - 536_870_912L, p.AllocatedBytes);
        // Besides the weights, 29 sequences take 4,640 blocks = 37 slabs (9,932,111,872) + scratch for 541 rows (179,846,912)
        // + workspace + overhead = 10,682,384,128 ≤ 10 GiB; 30 take 4,800 blocks = 38 slabs (10,200,547,328) + ... > 10 GiB.
        Assert.Equal(29, MemoryModel.LargestBatch(config, Scenario, 10L << 30, cap: 256));
        Assert.Equal(12, MemoryModel.LargestBatch(config, Scenario, 10L << 30, cap: 12));
        // One sequence: 160 blocks = 2 slabs (536,870,912) + 153,002,752 of scratch + 570,425,344 = 1,260,299,008.
        Assert.Equal(0, MemoryModel.LargestBatch(config, Scenario, 1_260_299_007, cap: 256));
        Assert.Equal(1, MemoryModel.LargestBatch(config, Scenario, 1_260_299_008, cap: 256));
    }
}
