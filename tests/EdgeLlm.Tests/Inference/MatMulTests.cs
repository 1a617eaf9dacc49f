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
            MatMul.ForcePortable = portable;
            try
            {
                var y = new float[m * n];
                MatMul.Linear(x, m, w, bias, y);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double want = bias[j];
                        for (int t = 0; t < k; t++) want += (double)x[i * k + t] * rounded[j * k + t];
                        Assert.True(Math.Abs(want - y[i * n + j]) < 1e-4 * Math.Sqrt(k),
                            $"portable={portable} y[{i},{j}] = {y[i * n + j]}, expected {want}");
                    }
            }
            finally { MatMul.ForcePortable = false; }
        }
    }
}
