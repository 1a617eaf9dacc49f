using EdgeLlm.Checkpoints;

namespace EdgeLlm.Profiling;

/// <summary>Which engine's buffers the memory model counts besides weights and runtime overhead.</summary>
public enum MemoryLayout
{
    /// <summary>A contiguous K/V cache of the context, the architecture's scratch buffers (<see cref="MemoryModel.BlockScratchBytes"/>),
    /// one attention-score row per thread, one logits row per sequence: the CPU engine (and the phone runtimes, as far as known).</summary>
    HostScratch,
    /// <summary><see cref="Inference.Backends.Cuda.CudaBackend"/>: the paged K/V pool and the backend's device buffers (<see cref="CudaMemoryModel"/>).</summary>
    CudaBackend,
    /// <summary>The fused <see cref="Inference.Backends.Cuda.CudaEngine"/>'s batch-1 greedy path: its contiguous cache and prefill scratch
    /// (<see cref="CudaMemoryModel"/>), beside the backend CausalLM always creates.</summary>
    CudaGreedy,
}

/// <summary>
/// How an inference engine spends memory besides the weights: the K/V element type, the activation
/// element type, how many prompt tokens one forward pass takes at most, and a constant overhead
/// (the process's own code, runtime and allocator slack), measured where we can.
/// </summary>
public sealed record RuntimeProfile(string Name, DType KvDType, DType ActivationDType, int PrefillChunk, long OverheadBytes, string Notes)
{
    /// <summary>Whose buffers are counted (default: the host engine's).</summary>
    public MemoryLayout Layout { get; init; } = MemoryLayout.HostScratch;

    /// <summary>Fixed buffers the engine allocates itself whatever the run (CUDA: the backend's cuBLAS workspace); counted in the prediction's WorkspaceBytes.</summary>
    public long WorkspaceBytes { get; init; }

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

    /// <summary>
    /// EdgeLlm's CUDA backend (every forward but batch-1 greedy decoding): float16 K/V in the paged pool (whole 16-position
    /// blocks per sequence, the pool grown by whole slabs), float32 activations in buffers a quarter larger than asked,
    /// the 16-bit copies of GEMM inputs and the covering products of fused weights, and the backend's 32 MiB cuBLAS
    /// workspace (<see cref="CudaMemoryModel"/> says which of <c>CudaBackend*.cs</c> and <c>PagedKvPool</c> each term
    /// follows). Overhead, outside the engine's allocator: the CUDA context, the NVRTC module and cuBLAS's own memory,
    /// taken as 512 MiB (not measured per device; <c>memory --measure --device cuda</c> reports the measured figure).
    /// </summary>
    public static RuntimeProfile EdgeLlmCuda { get; } = new("edgellm-cuda", DType.F16, DType.F32, int.MaxValue, 512L << 20,
        "EdgeLlm CUDA backend (paged float16 KV pool, float32 activations, cuBLAS workspace; overhead 512 MiB outside the allocator, unmeasured).")
    {
        Layout = MemoryLayout.CudaBackend, WorkspaceBytes = CudaMemoryModel.CublasWorkspaceBytes,
    };

    /// <summary>
    /// EdgeLlm's fused CUDA engine decoding one sequence greedily (<c>Generator</c> and <c>bench --device cuda</c> at batch 1):
    /// a contiguous float16 cache of the context with its flash-decoding partials, the prefill's chunked scratch (the
    /// attention scores of every head over the chunk's keys among it), the decode step's buffers, and the 32 MiB workspace
    /// of the backend created beside it. Overhead as <see cref="EdgeLlmCuda"/>.
    /// </summary>
    public static RuntimeProfile EdgeLlmCudaGreedy { get; } = new("edgellm-cuda-greedy", DType.F16, DType.F32, CudaMemoryModel.FusedChunkRows, 512L << 20,
        "EdgeLlm fused CUDA engine, batch-1 greedy (contiguous float16 KV cache, prefill scratch in 2048-row chunks; overhead 512 MiB outside the allocator, unmeasured).")
    {
        Layout = MemoryLayout.CudaGreedy, WorkspaceBytes = CudaMemoryModel.CublasWorkspaceBytes,
    };

    public static IReadOnlyList<RuntimeProfile> All { get; } = [EdgeLlmCpu, MlcLlmAndroid, EdgeLlmCuda, EdgeLlmCudaGreedy];

    public static RuntimeProfile Resolve(string name) => All.FirstOrDefault(r => r.Name == name)
        ?? throw new ArgumentException($"Unknown runtime '{name}' (known: {string.Join(", ", All.Select(r => r.Name))}).");
}
