using EdgeLlm.Inference.Backends;
using EdgeLlm.Inference.Backends.Cuda;

namespace EdgeLlm.Inference;

/// <summary>
/// How the engine runs a model. No option changes the numbers beyond float rounding order: the engine computes what
/// transformers computes (rotary frequencies in float32, as transformers keeps them whatever the checkpoint's dtype).
/// </summary>
public sealed record EngineOptions
{
    /// <summary>The backend that runs the forward pass; null: a <see cref="CpuBackend"/> the model creates and disposes.</summary>
    public IBackend? Backend { get; init; }

    /// <summary>Options of the CPU backend the model creates when <see cref="Backend"/> is null.</summary>
    public CpuBackendOptions Cpu { get; init; } = new();

    /// <summary>
    /// Where the model runs (<c>--device cpu|cuda[:N]</c>): the CPU engine (the reference, through <see cref="Backend"/>), or
    /// the CUDA engine on GPU N (<see cref="CudaEngine"/>: weights on the device, fused kernels, a captured decode graph).
    /// </summary>
    public DeviceSelection Device { get; init; } = DeviceSelection.Cpu;
}
