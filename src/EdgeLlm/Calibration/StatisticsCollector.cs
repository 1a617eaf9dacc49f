using EdgeLlm.Inference;
using EdgeLlm.Inference.Backends;

namespace EdgeLlm.Calibration;

/// <summary>
/// Feeds the engine's activations into <see cref="CalibrationStatistics"/>, keeping nothing but sums, where the activations
/// are: the backend's accumulators (<see cref="IBackend.AccumulateColumns"/>, <see cref="IBackend.AccumulateRowCosines"/>;
/// on a GPU, device memory) start at the statistics' current totals and <see cref="Flush"/> reads them back into it. Token
/// counts are kept on the host. The block input is kept until the block's output in a scratch buffer of the backend.
/// </summary>
internal sealed class StatisticsCollector : IBackendActivationObserver, IDisposable
{
    private const string BlockInputRole = "calibration.block_input";
    private readonly CalibrationStatistics statistics;
    private readonly IBackend backend;
    private readonly (Accumulator Sum, Accumulator SumOfSquares)[] attention, mlp;
    private readonly Accumulator cosines;
    private Activation? blockInput;

    public StatisticsCollector(CalibrationStatistics statistics, IBackend backend)
    {
        this.statistics = statistics;
        this.backend = backend;
        (Accumulator, Accumulator) On(ChannelStatistics s) => (backend.CreateAccumulator(s.Sum), backend.CreateAccumulator(s.SumOfSquares));
        attention = statistics.Attention.Select(On).ToArray();
        mlp = statistics.Mlp.Select(On).ToArray();
        cosines = backend.CreateAccumulator(statistics.CosineSum);
    }

    public void BlockInput(IBackend backend, int layer, Activation hidden, int rows)
    {
        blockInput = backend.Scratch(BlockInputRole, hidden.Width);
        backend.CopyColumns(hidden, 0, blockInput);
    }

    /// <summary>The channel statistics are kept for the attention output and the MLP's intermediate activations only (the pruned inputs).</summary>
    public bool Observes(Projection projection) => projection is Projection.AttentionOutput or Projection.MlpOutput;

    public void ProjectionInput(IBackend backend, int layer, Projection projection, Activation activations, int rows)
    {
        var (sums, channels) = projection switch
        {
            Projection.AttentionOutput => (attention[layer], statistics.Attention[layer]),
            Projection.MlpOutput => (mlp[layer], statistics.Mlp[layer]),
            _ => default,
        };
        if (channels == null) return;
        backend.AccumulateColumns(activations, sums.Sum, sums.SumOfSquares);
        channels.Tokens += rows;
    }

    public void BlockOutput(IBackend backend, int layer, Activation hidden, int rows)
    {
        var input = blockInput ?? throw new InvalidOperationException($"Layer {layer}: a block output without its block input.");
        backend.AccumulateRowCosines(input, hidden, cosines, layer);
        statistics.CosineTokens[layer] += rows;
        blockInput = null;
    }

    /// <summary>Reads the backend's sums into the statistics (before they are saved or returned).</summary>
    public void Flush()
    {
        for (int i = 0; i < attention.Length; i++)
        {
            backend.ReadAccumulator(attention[i].Sum, statistics.Attention[i].Sum);
            backend.ReadAccumulator(attention[i].SumOfSquares, statistics.Attention[i].SumOfSquares);
            backend.ReadAccumulator(mlp[i].Sum, statistics.Mlp[i].Sum);
            backend.ReadAccumulator(mlp[i].SumOfSquares, statistics.Mlp[i].SumOfSquares);
        }
        backend.ReadAccumulator(cosines, statistics.CosineSum);
    }

    public void Dispose()
    {
        foreach (var (sum, squares) in attention.Concat(mlp)) { sum.Dispose(); squares.Dispose(); }
        cosines.Dispose();
    }
}
