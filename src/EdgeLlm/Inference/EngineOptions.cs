namespace EdgeLlm.Inference;

/// <summary>
/// How the engine runs a model. No option changes the numbers: the engine computes what transformers
/// computes (rotary frequencies in float32, as transformers keeps them whatever the checkpoint's dtype).
/// </summary>
public sealed record EngineOptions
{
    /// <summary>Where the model runs: the CPU engine (the reference) or a CUDA device (<c>--device cuda[:N]</c>).</summary>
    public Backends.Cuda.DeviceSelection Device { get; init; } = Backends.Cuda.DeviceSelection.Cpu;
}
