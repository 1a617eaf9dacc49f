using EdgeLlm.Inference;

namespace EdgeLlm.Calibration;

/// <summary>Feeds the engine's activations into <see cref="CalibrationStatistics"/>, keeping nothing but sums.</summary>
internal sealed class StatisticsCollector(CalibrationStatistics statistics) : IActivationObserver
{
    private float[] blockInput = [];

    public void BlockInput(int layer, float[] hidden, int rows, int width)
    {
        if (blockInput.Length < rows * width) blockInput = new float[rows * width];
        Array.Copy(hidden, blockInput, rows * width);
    }

    /// <summary>The channel statistics are kept for the attention output and the MLP's intermediate activations only (the pruned inputs).</summary>
    public bool Observes(Projection projection) => projection is Projection.AttentionOutput or Projection.MlpOutput;

    public void ProjectionInput(int layer, Projection projection, float[] activations, int rows, int width)
    {
        if (projection == Projection.AttentionOutput) statistics.Attention[layer].Add(activations, rows);
        else if (projection == Projection.MlpOutput) statistics.Mlp[layer].Add(activations, rows);
    }

    public void BlockOutput(int layer, float[] hidden, int rows, int width)
    {
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            var a = blockInput.AsSpan(r * width, width);
            var b = hidden.AsSpan(r * width, width);
            sum += System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a, b);
        }
        statistics.CosineSum[layer] += sum;
        statistics.CosineTokens[layer] += rows;
    }
}
