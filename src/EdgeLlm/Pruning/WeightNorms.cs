using EdgeLlm.Checkpoints;

namespace EdgeLlm.Pruning;

/// <summary>Row and column norms of a stored matrix, read one row at a time (no float copy of the matrix).</summary>
internal static class WeightNorms
{
    public static double[] RowAbsSum(TensorView w)
    {
        var result = new double[w.Rows];
        var row = new float[w.RowLength];
        for (int i = 0; i < w.Rows; i++)
        {
            w.RowToFloat(i, row);
            double s = 0;
            foreach (var v in row) s += Math.Abs(v);
            result[i] = s;
        }
        return result;
    }

    /// <summary>Σ_i |W_ij| (power 1) or Σ_i W_ij² (power 2) for every column j.</summary>
    public static double[] ColumnSum(TensorView w, int power)
    {
        var result = new double[w.RowLength];
        var row = new float[w.RowLength];
        for (int i = 0; i < w.Rows; i++)
        {
            w.RowToFloat(i, row);
            for (int j = 0; j < row.Length; j++) result[j] += power == 1 ? Math.Abs(row[j]) : (double)row[j] * row[j];
        }
        return result;
    }

    /// <summary>W[:, removed] · mean[removed]: the average contribution of the removed input channels to each output.</summary>
    public static float[] RemovedContribution(TensorView w, IReadOnlyList<int> removed, Func<int, double> mean)
    {
        var result = new float[w.Rows];
        var row = new float[w.RowLength];
        for (int i = 0; i < w.Rows; i++)
        {
            w.RowToFloat(i, row);
            double s = 0;
            foreach (var j in removed) s += row[j] * mean(j);
            result[i] = (float)s;
        }
        return result;
    }
}
