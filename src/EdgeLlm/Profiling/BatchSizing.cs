using EdgeLlm.Inference;

namespace EdgeLlm.Profiling;

/// <summary>
/// How many sequences a <see cref="ContinuousBatcher"/> runs at once, and how many KV positions they may hold, from the memory
/// free once the model is loaded. <see cref="Note"/> says where the numbers came from, for the log.
/// </summary>
public sealed record BatchChoice(BatcherOptions Options, long UsableBytes, string MemorySource, int SequenceTokens, MemoryPrediction Prediction)
{
    public string Note =>
        $"max batch {Options.MaxBatch}{(Chosen ? " (chosen from memory)" : "")}, KV budget {Options.MaxKvTokens} positions " +
        $"({Prediction.KvDType}, {KvBudgetBytes >> 20} MiB), sequences of up to {SequenceTokens} tokens assumed; {MemorySource}: " +
        $"{UsableBytes >> 20} MiB usable, {StepBytes >> 20} MiB of it for the step's buffers and the runtime" +
        (FullBatchFits ? "" : $"; {Options.MaxBatch} sequences of {SequenceTokens} tokens at once would need " +
            $"{Prediction.KvCacheBytes >> 20} MiB of keys and values, so sequences wait for KV blocks when the budget is spent");

    public bool Chosen { get; init; }

    /// <summary>K/V bytes of one position in the budget's element type (all layers, keys and values).</summary>
    public long KvBytesPerPosition { get; init; }

    /// <summary>What the prediction holds besides the weights and the K/V cache: step buffers, workspace, runtime overhead.</summary>
    public long StepBytes => Prediction.TotalBytes - Prediction.WeightBytes - Prediction.KvCacheBytes;

    public long KvBudgetBytes => (Options.MaxKvTokens ?? 0) * KvBytesPerPosition;

    /// <summary>Whether every sequence of the batch at its full length fits in the K/V budget at once.</summary>
    public bool FullBatchFits => Prediction.KvCacheBytes <= KvBudgetBytes;
}

public static class BatchSizing
{
    /// <summary>The most sequences chosen automatically: CPU steps stop gaining beyond a few dozen rows; GPUs keep gaining longer.</summary>
    public const int CpuCap = 64, CudaCap = 256;

    /// <summary>Of the memory free, the share a run plans to use (the rest covers allocator slack and other processes).</summary>
    public const double UsableShare = 0.9;

    /// <summary>
    /// The batcher options for <paramref name="model"/>: <paramref name="maxBatch"/> (null: the largest batch of sequences of
    /// <paramref name="sequenceTokens"/> tokens that fits, at most <see cref="CpuCap"/>/<see cref="CudaCap"/>) and a KV budget of the
    /// positions that fit in the memory left after that batch's step scratch, so admission never overcommits.
    /// CPU: MemAvailable minus the weights not counted as used (the memory map's pages); CUDA: the device's free memory.
    /// </summary>
    public static BatchChoice Choose(CausalLM model, int? maxBatch, int sequenceTokens, int prefillChunk = 512)
    {
        if (maxBatch is < 1) throw new ArgumentException($"--max-batch must be at least 1 (got {maxBatch}).");
        var config = model.Config;
        int context = Math.Max(1, Math.Min(sequenceTokens, model.MaxContext));
        var (runtime, free, source, cap) = model.Device is { } device
            ? (RuntimeProfile.EdgeLlmCuda, device.MemoryInfo().Free, $"{model.Options.Device} free memory", CudaCap)
            : (RuntimeProfile.EdgeLlmCpu, AvailableRam() - model.Checkpoint.WeightBytes, "available RAM less the weights", CpuCap);
        long usable = (long)(Math.Max(0, free) * UsableShare);
        MemoryScenario Scenario(int b) => MemoryScenario.ContinuousBatch(b, context, prefillChunk, runtime, model.Checkpoint.WeightBytes);
        int batch = maxBatch ?? Math.Max(1, MemoryModel.LargestBatch(config, Scenario, usable, cap));
        var prediction = MemoryModel.Predict(config, Scenario(batch));
        long kvPerToken = MemoryModel.KvCacheBytes(config, 1, 1, runtime.KvDType);
        long notKv = prediction.TotalBytes - prediction.WeightBytes - prediction.KvCacheBytes;
        long kvTokens = Math.Max(context, (usable - notKv) / kvPerToken); // one sequence always runs: it did before batching
        return new BatchChoice(new BatcherOptions { MaxBatch = batch, PrefillChunkTokens = prefillChunk, MaxKvTokens = kvTokens },
            usable, source, context, prediction) { Chosen = maxBatch is null, KvBytesPerPosition = kvPerToken };
    }

    /// <summary>MemAvailable from /proc/meminfo (Linux); elsewhere what the GC reports as available.</summary>
    public static long AvailableRam()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:")) return long.Parse(line["MemAvailable:".Length..].Trim().Split(' ')[0]) * 1024;
        }
        catch (IOException) { }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }
}
