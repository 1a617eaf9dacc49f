using EdgeLlm.Checkpoints;

namespace EdgeLlm.Profiling;

/// <summary>
/// How an inference engine spends memory besides the weights: the K/V element type, the activation
/// element type, how many prompt tokens one forward pass takes at most, and a constant overhead
/// (the process's own code, runtime and allocator slack), measured where we can.
/// </summary>
public sealed record RuntimeProfile(string Name, DType KvDType, DType ActivationDType, int PrefillChunk, long OverheadBytes, string Notes)
{
    /// <summary>EdgeLlm's CPU engine: float32 K/V and activations, the whole prompt in one pass. Overhead:
    /// the .NET runtime's resident set before a model is opened, as `edgellm memory --measure` reports it
    /// (baseline_rss_bytes, 2-core Linux box, .NET 10) rounded up to 64 MiB.</summary>
    public static RuntimeProfile EdgeLlmCpu { get; } = new("edgellm-cpu", DType.F32, DType.F32, int.MaxValue, 64L << 20,
        "EdgeLlm CPU engine (float32 KV cache and activations; weights memory-mapped in their stored dtype).");

    /// <summary>MLC-LLM on Android: fp16 K/V (its paged KV cache takes the model's dtype) and fp16
    /// activations, prompts prefilled in chunks of prefill_chunk_size (2048 in its generated configs).
    /// Overhead is not measured here (no phone): 0 until paired phone measurements supply one.</summary>
    public static RuntimeProfile MlcLlmAndroid { get; } = new("mlc-llm-android", DType.F16, DType.F16, 2048, 0,
        "MLC-LLM Android (fp16 KV cache and activations, prefill_chunk_size 2048); runtime overhead unmeasured.");

    /// <summary>EdgeLlm's CUDA engine: float16 K/V on the device (DeviceKvCache), activations counted as float32 (its
    /// scratch mixes float32 and float16, so this errs high). Overhead: the CUDA context, NVRTC kernels and the cuBLAS
    /// workspace, taken as 512 MiB (not measured per device).</summary>
    public static RuntimeProfile EdgeLlmCuda { get; } = new("edgellm-cuda", DType.F16, DType.F32, int.MaxValue, 512L << 20,
        "EdgeLlm CUDA engine (float16 KV cache on the device, activations counted as float32; overhead 512 MiB, unmeasured).");

    public static IReadOnlyList<RuntimeProfile> All { get; } = [EdgeLlmCpu, MlcLlmAndroid, EdgeLlmCuda];

    public static RuntimeProfile Resolve(string name) => All.FirstOrDefault(r => r.Name == name)
        ?? throw new ArgumentException($"Unknown runtime '{name}' (known: {string.Join(", ", All.Select(r => r.Name))}).");
}
