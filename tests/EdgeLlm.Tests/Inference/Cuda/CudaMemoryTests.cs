using EdgeLlm.Inference;
using EdgeLlm.Inference.Backends.Cuda;
using EdgeLlm.Profiling;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Inference.Cuda;

/// <summary>
/// The memory model's CUDA layouts against the engine allocator's peak on a GPU. On the tiny fixtures nearly every byte
/// is a term the model counts exactly (cuBLAS workspace, the pool's slab, caches, scratch); what it leaves out (vectors
/// uploaded as float32, the backend's row maps) is a few tens of KiB, hence the 3 % band.
/// </summary>
public class CudaMemoryTests
{
    private static readonly DeviceSelection Gpu = new(true, 0);

    [CudaTheory]
    [InlineData("phi-float16")]
    [InlineData("llama-bfloat16")]
    [InlineData("qwen2-float32")]
    public void TheGreedyProbesPeakIsPredicted(string fixture)
    {
        var r = MemoryProbe.Measure(SharedData.Path("fixtures", "hf-tiny", fixture), context: 128, device: Gpu);
        var m = r.DeviceMemory ?? throw new InvalidOperationException("a CUDA probe without device memory");
        Assert.Equal("edgellm-cuda-greedy", r.Runtime);
        Assert.StartsWith("cuda:0", r.Device);
        Assert.InRange(m.PredictedOverMeasured, 0.97, 1.03);
        Assert.True(m.DeviceFreeAtPeakBytes > 0 && m.DeviceFreeAtPeakBytes < m.DeviceTotalBytes, $"free {m.DeviceFreeAtPeakBytes} of {m.DeviceTotalBytes}");
        Assert.True(m.OutsideAllocatorBytes > 0, $"the driver saw {m.DriverUsedAtPeakBytes} in use, less than the allocator's {m.PeakAllocatedBytes}");
    }

    [CudaFact]
    public void TheBatchBenchmarksPeakIsPredicted()
    {
        using var lm = CausalLM.Load(SharedData.Path("fixtures", "hf-tiny", "llama-float16"), new EngineOptions { Device = Gpu });
        var r = CudaBatchBenchmark.Run(lm, new CudaBatchBenchmarkOptions { Batch = 4, PromptTokens = 40, NewTokens = 8, Repeats = 1, Warmup = 1 });
        Assert.Equal("edgellm-cuda", r.Memory.Prediction.Runtime);
        Assert.Equal(160, r.Memory.Prediction.ActivationRows); // the four prompts in one prefill step
        Assert.Equal(r.KvPoolBytes, r.Memory.Prediction.KvCacheBytes); // one slab of 4,096 blocks
        Assert.InRange(r.Memory.PredictedOverMeasured, 0.97, 1.03);
    }
}
