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
}
