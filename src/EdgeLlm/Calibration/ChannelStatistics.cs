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
    public long Tokens { get; private set; }
    public double[] Sum { get; }
    public double[] SumOfSquares { get; }

    public void Add(float[] rows, int count)
    {
        int width = Width;
        void Range(int from, int to)
        {
            for (int r = 0; r < count; r++)
            {
                int offset = r * width;
                for (int j = from; j < to; j++)
                {
                    double v = rows[offset + j];
                    Sum[j] += v;
                    SumOfSquares[j] += v * v;
                }
            }
        }
        const int block = 256;
        if ((long)count * width < 1 << 16) Range(0, width);
        else WorkerTeam.For(0, (width + block - 1) / block, b => Range(b * block, Math.Min(width, (b + 1) * block)));
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
