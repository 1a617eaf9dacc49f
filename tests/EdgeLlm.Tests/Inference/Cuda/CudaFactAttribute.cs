using EdgeLlm.Inference.Backends.Cuda;

namespace EdgeLlm.Tests.Inference.Cuda;

/// <summary>
/// A test that needs a CUDA GPU. Where there is none (CI), it is skipped, and the skip says why
/// ("no CUDA: the CUDA driver (libcuda.so.1) not found …"), so the report shows what did not run.
/// </summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (CudaProbe.Reason is { } reason) Skip = reason;
    }
}

/// <summary>The theory form of <see cref="CudaFactAttribute"/>.</summary>
public sealed class CudaTheoryAttribute : TheoryAttribute
{
    public CudaTheoryAttribute()
    {
        if (CudaProbe.Reason is { } reason) Skip = reason;
    }
}

/// <summary>A test of the no-GPU path (the one-line error); skipped where a GPU is present.</summary>
public sealed class NoCudaFactAttribute : FactAttribute
{
    public NoCudaFactAttribute()
    {
        if (CudaProbe.Reason == null) Skip = "a CUDA device is present; the missing-device test covers the error path here";
    }
}

/// <summary>A test that needs NVRTC (not a GPU); skipped, saying so, where NVRTC is not installed.</summary>
public sealed class NvrtcFactAttribute : FactAttribute
{
    public NvrtcFactAttribute()
    {
        try { CudaLibraries.EnsureNvrtc(); }
        catch (CudaUnavailableException e) { Skip = e.Message; }
    }
}

/// <summary>Whether a CUDA device is usable here; null when it is, else the reason it is not.</summary>
public static class CudaProbe
{
    private static readonly Lazy<string?> reason = new(() =>
    {
        try { return CudaAvailability.Devices().Count > 0 ? null : "no CUDA device: the driver sees no GPU"; }
        catch (InvalidOperationException e) { return e.Message; }
    });

    public static string? Reason => reason.Value;
}
