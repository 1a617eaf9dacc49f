namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>What CUDA devices this machine offers, for tools and tests deciding whether to run on one.</summary>
public static class CudaAvailability
{
    /// <summary>"cuda:N name" for each device; throws <see cref="CudaUnavailableException"/> (one line) without a driver.</summary>
    public static IReadOnlyList<string> Devices() => CudaDevice.List();
}
