using EdgeLlm.Inference.Backends.Cuda;

namespace EdgeLlm.Tests.Inference.Cuda;

/// <summary>EDGELLM_CUDA_DEFINES: the A/B switch that hands NVRTC compile-time constants (no GPU needed).</summary>
public class CudaKernelDefinesTests
{
    [Fact]
    public void EachEntryBecomesOneDefineAndNothingElseGetsThrough()
    {
        Assert.Empty(CudaKernels.DefineOptions(null));
        Assert.Empty(CudaKernels.DefineOptions("  "));
        Assert.Equal(["-DATT_KEYS=8", "-DGEMV_MIN_BLOCKS=4", "-DFLAG"], CudaKernels.DefineOptions("ATT_KEYS=8, GEMV_MIN_BLOCKS=4,,FLAG"));
        // An option smuggled in, a lower-case name or a value with a space is refused, naming the entry.
        foreach (var bad in new[] { "ATT_KEYS=8 --use_fast_math", "--use_fast_math", "att_keys=8", "X=a b", "1X=2" })
        {
            var e = Assert.Throws<CudaException>(() => CudaKernels.DefineOptions(bad));
            Assert.Contains("EDGELLM_CUDA_DEFINES", e.Message);
        }
    }
}
