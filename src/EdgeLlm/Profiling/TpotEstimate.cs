using EdgeLlm.Checkpoints;

namespace EdgeLlm.Profiling;

/// <summary>A bandwidth-bound decode estimate: every streamed weight and the whole K/V cache read once per step.</summary>
public sealed record TpotEstimate(string Device, double BandwidthGBps, long WeightBytesPerToken, long KvBytesPerToken, int Context, double TpotMs, double TokensPerSecond);

public static class TpotEstimator
{
    /// <summary>
    /// Lower bound of one decode step on <paramref name="device"/>: (weights streamed + K/V read at
    /// <paramref name="context"/>) ÷ bandwidth. Streamed weights are the linear layers and the head; the
    /// embedding is a row lookup, except when tied, where it is the head. Prefill is not included: with
    /// many generated tokens the challenge's TPOT tends to this.
    /// </summary>
    public static TpotEstimate Estimate(ModelConfig config, DeviceProfile device, int context, DType weightDType, DType kvDType)
    {
        long streamedParams = TensorLayout.For(config)
            .Where(t => t.Role is TensorRole.Linear or TensorRole.Head || (t.Role == TensorRole.Embedding && config.TieWordEmbeddings))
            .Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));
        long weights = streamedParams * weightDType.SizeOf();
        long kv = MemoryModel.KvCacheBytes(config, context, 1, kvDType);
        double ms = (weights + kv) / (device.BandwidthGBps * 1e9) * 1000;
        return new TpotEstimate(device.Name, device.BandwidthGBps, weights, kv, context, ms, 1000 / ms);
    }
}
