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
        // Llama-3-8B, 16 sequences of 2,560 positions, steps of 16 decode rows + a 512-token prompt chunk, edgellm-cuda:
        //   KV (float16): 2 · 32 layers · 8 kv heads · 128 · 2,560 · 16 · 2 B = 5,368,709,120
        //   step scratch (float32): x, h, q, attn 4·4096 + k, v 2·1024 + gate, up 2·14,336 = 47,104 per row · 528 rows = 24,870,912
        //   + scores 1 thread · 2,560 + logits 16 · 128,256 = 2,052,096 → 26,925,568 values · 4 B = 107,702,272
        //   overhead 512 MiB = 536,870,912 → 6,013,282,304 besides the weights; with 16,060,522,496 of weights 22,073,804,800.
        var config = Preset("llama-3-8b");
        MemoryScenario Scenario(int b) => MemoryScenario.ContinuousBatch(b, 2560, 512, RuntimeProfile.EdgeLlmCuda, 16_060_522_496) with { Threads = 1 };
        var p = MemoryModel.Predict(config, Scenario(16));
        Assert.Equal(5_368_709_120L, p.KvCacheBytes);
        Assert.Equal(528, p.ActivationRows);
        Assert.Equal(107_702_272L, p.ActivationBytes);
        Assert.Equal(22_073_804_800L, p.TotalBytes);
        // Each sequence adds 335,544,320 (KV) + 188,416 (a step row) + 513,024 (a logits row) = 336,245,760 over 633,350,144
        // for none: 10 GiB holds (10,737,418,240 − 633,350,144) / 336,245,760 = 30.05 → 30 sequences.
        Assert.Equal(30, MemoryModel.LargestBatch(config, Scenario, 10L << 30, cap: 256));
        Assert.Equal(12, MemoryModel.LargestBatch(config, Scenario, 10L << 30, cap: 12));
        Assert.Equal(0, MemoryModel.LargestBatch(config, Scenario, 633_350_144 + 336_245_759, cap: 256));
        Assert.Equal(1, MemoryModel.LargestBatch(config, Scenario, 633_350_144 + 336_245_760, cap: 256));
    }
}
