using EdgeLlm.Checkpoints;

namespace EdgeLlm.Profiling;

/// <summary>What a prediction is for: context length, sequences decoded together, and the dtypes in play.</summary>
public sealed record MemoryScenario
{
    public int Context { get; init; } = 4096;
    public int Batch { get; init; } = 1;
    /// <summary>Bytes the weights take; null: parameters × <see cref="WeightDType"/>'s size.</summary>
    public long? WeightBytes { get; init; }
    public DType WeightDType { get; init; } = DType.F16;
    public RuntimeProfile Runtime { get; init; } = RuntimeProfile.EdgeLlmCpu;
    /// <summary>Overrides the runtime's K/V dtype.</summary>
    public DType? KvDType { get; init; }
    /// <summary>Threads that each hold an attention-score row over the context.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>
    /// Rows of the largest forward step; null: every sequence's prompt at once, Batch × min(Context, the runtime's prefill chunk).
    /// For <see cref="MemoryLayout.CudaGreedy"/>: the prompt's tokens, prefilled in one call in the engine's chunks (null: Context).
    /// </summary>
    public int? StepRows { get; init; }
    /// <summary>
    /// Leading positions every sequence after the first takes from the first one's cache (a shared prompt prefix,
    /// <c>KvCache.SharePrefix</c>). The CUDA pool holds that prefix's whole blocks once; the other layouts copy it.
    /// </summary>
    public int SharedPrefixTokens { get; init; }

    /// <summary>
    /// Continuous batching (<c>ContinuousBatcher</c>): <paramref name="batch"/> sequences of up to <paramref name="context"/>
    /// positions each, and steps of one row per decoding sequence plus a prompt chunk of <paramref name="prefillChunk"/> rows.
    /// </summary>
    public static MemoryScenario ContinuousBatch(int batch, int context, int prefillChunk, RuntimeProfile runtime, long? weightBytes = null) => new()
    {
        Batch = batch, Context = context, StepRows = batch + prefillChunk, Runtime = runtime, WeightBytes = weightBytes,
    };
}

/// <summary>The predicted peak of inference memory, by part, and how it sits against a device.</summary>
public sealed record MemoryPrediction(
    long Parameters, long WeightBytes, string WeightDType, long KvCacheBytes, string KvDType, long ActivationBytes,
    string ActivationDType, int ActivationRows, long OverheadBytes, long TotalBytes, int Context, int Batch, string Runtime,
    long WorkspaceBytes = 0)
{
    /// <summary>What the engine's own device allocator should count (CUDA): the total less the runtime overhead outside it.</summary>
    public long AllocatedBytes => TotalBytes - OverheadBytes;
}

public sealed record DeviceFit(string Device, long UsableBytes, long PredictedBytes, bool Fits, long MarginBytes, double Utilisation);

/// <summary>
/// Inference memory = weights + K/V cache for the context + the largest simultaneous activation
/// buffers + the engine's fixed workspace + a constant per runtime. The K/V cache holds a key and a value vector per
/// layer, KV head and position: 2 · layers · kv_heads · head_dim · context · batch · bytes per element (the CUDA
/// layouts round it as their caches do, and count their own buffers: <see cref="CudaMemoryModel"/>).
/// </summary>
public static class MemoryModel
{
    public static MemoryPrediction Predict(ModelConfig config, MemoryScenario s)
    {
        if (s.Context <= 0 || s.Batch <= 0) throw new ArgumentException($"Context ({s.Context}) and batch ({s.Batch}) must be positive.");
        long parameters = TensorLayout.ParameterCount(config);
        long weights = s.WeightBytes ?? parameters * s.WeightDType.SizeOf();
        var kvType = s.KvDType ?? s.Runtime.KvDType;
        var layout = s.Runtime.Layout;
        int rows = s.StepRows ?? (layout == MemoryLayout.CudaGreedy ? s.Context : s.Batch * Math.Min(s.Context, s.Runtime.PrefillChunk));
        if (rows <= 0) throw new ArgumentException($"A forward step needs at least one row (StepRows = {rows}).");
        if (s.SharedPrefixTokens < 0 || s.SharedPrefixTokens > s.Context)
            throw new ArgumentException($"A shared prefix of {s.SharedPrefixTokens} positions does not fit a context of {s.Context}.");
        if (layout == MemoryLayout.CudaGreedy && (s.Batch != 1 || rows > s.Context))
            throw new ArgumentException($"Greedy decoding on the fused CUDA engine is one sequence whose prompt fits its context (batch {s.Batch}, prompt {rows}, context {s.Context}).");
        var (kv, activations) = layout switch
        {
            MemoryLayout.CudaBackend => (CudaMemoryModel.PagedKvBytes(config, s.Context, s.Batch, kvType, s.SharedPrefixTokens),
                CudaMemoryModel.BackendScratchBytes(config, rows, s.Batch, s.Context, s.WeightDType)),
            MemoryLayout.CudaGreedy => (CudaMemoryModel.FusedKvBytes(config, s.Context, kvType),
                CudaMemoryModel.FusedScratchBytes(config, s.Context, rows, s.WeightDType)),
            _ => (KvCacheBytes(config, s.Context, s.Batch, kvType),
                ActivationBytes(config, rows, s.Batch, s.Context, s.Threads, s.Runtime.ActivationDType)),
        };
        long workspace = s.Runtime.WorkspaceBytes;
        long total = weights + kv + activations + workspace + s.Runtime.OverheadBytes;
        return new MemoryPrediction(parameters, weights, s.WeightBytes is null ? s.WeightDType.ToTorchName() : "stored",
            kv, kvType.ToTorchName(), activations, s.Runtime.ActivationDType.ToTorchName(), rows, s.Runtime.OverheadBytes,
            total, s.Context, s.Batch, s.Runtime.Name, workspace);
    }

    public static long KvCacheBytes(ModelConfig c, int context, int batch, DType kvType) =>
        2L * c.KvWidthAllLayers * context * batch * kvType.SizeOf();

    /// <summary>
    /// The working buffers alive together inside one decoder block when <paramref name="rows"/> tokens
    /// pass at once (the residual stream plus every per-role scratch buffer, as the architecture declares
    /// them in <see cref="Architectures.ModelArchitecture.ScratchBuffers"/>), the per-thread attention scores
    /// over the context, and one logits row per sequence.
    /// </summary>
    public static long ActivationBytes(ModelConfig c, int rows, int batch, int context, int threads, DType dtype)
    {
        long scores = (long)threads * context;
        long logits = (long)batch * c.VocabSize;
        return BlockScratchBytes(c, rows, dtype) + (scores + logits) * dtype.SizeOf();
    }

    /// <summary>
    /// The scratch buffers of one forward step of <paramref name="rows"/> rows (residual stream included), as the architecture
    /// declares them (<see cref="Architectures.ModelArchitecture.ScratchBuffers"/>, widest layer): what the engine's
    /// <see cref="Inference.CausalLM.WorkspaceBytes"/> holds after such a step.
    /// </summary>
    public static long BlockScratchBytes(ModelConfig c, int rows, DType dtype) =>
        rows * c.Architecture.ScratchBuffers(c).Sum(b => b.Width) * dtype.SizeOf();

    /// <summary>
    /// The largest batch, at most <paramref name="cap"/>, whose prediction (<paramref name="scenario"/> of the batch) besides
    /// the weights fits in <paramref name="usableBytes"/>; 0 when not even one sequence fits. The weights are left out:
    /// the caller's usable bytes are what is free once they are in place (resident on the GPU, or subtracted from free RAM).
    /// </summary>
    public static int LargestBatch(ModelConfig config, Func<int, MemoryScenario> scenario, long usableBytes, int cap)
    {
        int best = 0;
        for (int b = 1; b <= cap; b++)
        {
            var p = Predict(config, scenario(b));
            if (p.TotalBytes - p.WeightBytes > usableBytes) break;
            best = b;
        }
        return best;
    }

    public static DeviceFit Fit(MemoryPrediction p, DeviceProfile device) =>
        new(device.Name, device.UsableBytes, p.TotalBytes, p.TotalBytes <= device.UsableBytes, device.UsableBytes - p.TotalBytes,
            (double)p.TotalBytes / device.UsableBytes);
}
