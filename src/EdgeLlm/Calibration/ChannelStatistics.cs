using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Calibration;

/// <summary>Running sums over tokens for each input channel of one projection: enough for means, variances and norms.</summary>
public sealed class ChannelStatistics
{
    public ChannelStatistics(int width) { Sum = new double[width]; SumOfSquares = new double[width]; }

    internal ChannelStatistics(double[] sum, double[] sumOfSquares, long tokens)
    {
        Sum = sum; SumOfSquares = sumOfSquares; Tokens = tokens;
    }

    public int Width => Sum.Length;
    public long Tokens { get; internal set; }
    public double[] Sum { get; }
    public double[] SumOfSquares { get; }

    /// <summary>Adds <paramref name="count"/> rows of <see cref="Width"/> values (host activations).</summary>
    public void Add(float[] rows, int count)
    {
        Ops.AccumulateColumns(rows, count, Width, Sum, SumOfSquares);
        Tokens += count;
    }

    public double Mean(int channel) => Sum[channel] / Tokens;

    /// <summary>Sample variance over tokens (n − 1 in the denominator).</summary>
    public double Variance(int channel)
    {
        if (Tokens < 2) return 0;
        double mean = Mean(channel);
        return Math.Max(0, (SumOfSquares[channel] - Tokens * mean * mean) / (Tokens - 1));
    }

    /// <summary>‖X_j‖₂ over every calibration token.</summary>
    public double Norm(int channel) => Math.Sqrt(SumOfSquares[channel]);
}
