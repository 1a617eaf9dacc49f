using System.Numerics.Tensors;

namespace EdgeLlm.Inference.Kernels;

internal static class Residual
{
    /// <summary>x[..count] += delta[..count].</summary>
    public static void Add(float[] x, float[] delta, int count) =>
        TensorPrimitives.Add(x.AsSpan(0, count), delta.AsSpan(0, count), x.AsSpan(0, count));
}
