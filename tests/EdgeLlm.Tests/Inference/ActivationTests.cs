using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Tests.Inference;

/// <summary>Activations against their formulas evaluated in double precision, on spans long enough to be split across the worker team.</summary>
public class ActivationTests
{
    private static float[] Inputs(int length) => Enumerable.Range(0, length).Select(i => -8f + 16f * i / length).ToArray();

    [Theory]
    [InlineData("gelu_new", 100_003)]
    [InlineData("gelu_pytorch_tanh", 1_000)]
    [InlineData("silu", 70_001)]
    public void ActivationMatchesItsFormula(string name, int length)
    {
        var x = Inputs(length);
        var y = (float[])x.Clone();
        Ops.Activate(name, y);
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            double want = name == "silu"
                ? v / (1 + Math.Exp(-v))
                : 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            Assert.True(Math.Abs(y[i] - want) <= 2e-6 * Math.Max(1, Math.Abs(want)), $"{name}({v}) = {y[i]}, expected {want}");
        }
    }
}
