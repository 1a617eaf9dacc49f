using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Kernels;

using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Inference;

/// <summary>The SIMD kernels against a plain double-precision dot product, for every path and dtype.</summary>
public class MatMulTests : TempDirectoryTest
{

    [Theory]
    [InlineData(DType.F32, 1, 37, 70)]
    [InlineData(DType.F16, 1, 37, 70)]
    [InlineData(DType.BF16, 3, 130, 33)]
    [InlineData(DType.F16, 7, 128, 40)]
    [InlineData(DType.BF16, 7, 128, 40)]
    [InlineData(DType.F16, 33, 1061, 21)]
    [InlineData(DType.BF16, 8, 300, 70)]
    [InlineData(DType.F16, 13, 257, 131)]
    [InlineData(DType.F32, 32, 64, 9)]
    [InlineData(DType.F32, 9, 2050, 19)]
    public void LinearMatchesReference(DType dtype, int m, int k, int n)
    {
        var rng = new Random(m * 1000 + k);
        var wValues = Enumerable.Range(0, n * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var x = Enumerable.Range(0, m * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var bias = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble()).ToArray();
        var path = Path.Combine(Temp, $"w-{dtype}-{m}-{k}-{n}.safetensors");
        SafeTensorsWriter.Write(path, [TensorData.FromFloats("w", [n, k], wValues, dtype)]);
        using var file = SafeTensorsFile.Open(path);
        var w = file["w"];
        var rounded = w.ToFloatArray();

        foreach (var portable in new[] { false, true })
        {
            var y = new float[m * n];
            MatMul.Linear(x, m, w, bias, y, new MatMulOptions(Portable: portable));
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double want = bias[j];
                    for (int t = 0; t < k; t++) want += (double)x[i * k + t] * rounded[j * k + t];
                    Assert.True(Math.Abs(want - y[i * n + j]) < 1e-4 * Math.Sqrt(k),
                        $"portable={portable} y[{i},{j}] = {y[i * n + j]}, expected {want}");
                }
        }
    }

    private float[] DecodeF16(float[] weights, int n, int k, float[] x, string name)
    {
        var path = Path.Combine(Temp, name + ".safetensors");
        SafeTensorsWriter.Write(path, [TensorData.FromFloats("w", [n, k], weights, DType.F16)]);
        using var file = SafeTensorsFile.Open(path);
        var y = new float[n];
        MatMul.Linear(x, 1, file["w"], default, y);
        return y;
    }

    [Fact]
    public void F16DecodeKeepsSubnormalWeightsAndTheirSigns()
    {
        const int k = 48;
        // Every weight is a half subnormal (below 2^-14), alternately signed, against large x.
        var w = Enumerable.Range(0, 2 * k).Select(i => (float)(i % 2 == 0 ? 1 : -1) * (i + 1) * 5.9604645e-8f).ToArray();
        var x = Enumerable.Range(0, k).Select(i => 1000f + i).ToArray();
        var y = DecodeF16(w, 2, k, x, "subnormal");
        for (int r = 0; r < 2; r++)
        {
            double want = 0;
            for (int i = 0; i < k; i++) want += (double)(float)(Half)w[r * k + i] * x[i];
            Assert.True(Math.Abs(y[r] - want) <= 1e-5 * Math.Abs(want), $"row {r}: {y[r]}, expected {want}");
        }
    }

    [Fact]
    public void F16DecodePropagatesInfinityAndNaNWeights()
    {
        const int k = 40;
        var w = new float[3 * k];
        Array.Fill(w, 0.5f);
        w[3] = float.PositiveInfinity; w[k + 37] = float.NegativeInfinity; w[2 * k + 20] = float.NaN;
        var x = Enumerable.Repeat(1f, k).ToArray();
        var y = DecodeF16(w, 3, k, x, "special");
        Assert.Equal(float.PositiveInfinity, y[0]);
        Assert.Equal(float.NegativeInfinity, y[1]);
        Assert.True(float.IsNaN(y[2]), $"NaN weight gave {y[2]}");
    }

    [Fact]
    public void F16DecodeHandlesActivationsBeyondTheHalfRange()
    {
        const int k = 64;
        var rng = new Random(5);
        var w = Enumerable.Range(0, 4 * k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var x = Enumerable.Range(0, k).Select(i => i == 7 ? 3.0e6f : (float)(rng.NextDouble() * 100)).ToArray();
        var y = DecodeF16(w, 4, k, x, "large-x");
        for (int r = 0; r < 4; r++)
        {
            double want = 0;
            for (int i = 0; i < k; i++) want += (double)(float)(Half)w[r * k + i] * x[i];
            Assert.True(Math.Abs(y[r] - want) <= 1e-5 * Math.Abs(x[7]), $"row {r}: {y[r]}, expected {want}");
        }
    }
}
