using System.Numerics.Tensors;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Kernels;

/// <summary>Row-wise elementwise operations of the decoder blocks, in float32 as transformers computes them.</summary>
public static class Ops
{
    /// <summary>RMSNorm per row: x / sqrt(mean(x²) + eps) · weight.</summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> output, int dim)
    {
        for (int r = 0; r < x.Length / dim; r++)
        {
            var row = x.Slice(r * dim, dim);
            var outRow = output.Slice(r * dim, dim);
            float meanSquare = TensorPrimitives.SumOfSquares(row) / dim;
            float scale = 1f / MathF.Sqrt(meanSquare + eps);
            TensorPrimitives.Multiply(row, scale, outRow);
            TensorPrimitives.Multiply(outRow, weight, outRow);
        }
    }

    /// <summary>LayerNorm per row with weight and bias (biased variance, as torch.nn.LayerNorm).</summary>
    public static void LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float eps, Span<float> output, int dim)
    {
        for (int r = 0; r < x.Length / dim; r++)
        {
            var row = x.Slice(r * dim, dim);
            var outRow = output.Slice(r * dim, dim);
            float mean = TensorPrimitives.Sum(row) / dim;
            TensorPrimitives.Subtract(row, mean, outRow);
            float variance = TensorPrimitives.SumOfSquares(outRow) / dim;
            TensorPrimitives.Multiply(outRow, 1f / MathF.Sqrt(variance + eps), outRow);
            TensorPrimitives.FusedMultiplyAdd(outRow, weight, bias, outRow);
        }
    }

    /// <summary>gate ← silu(gate) · up, the SwiGLU product.</summary>
    public static void SiluMultiply(Span<float> gate, ReadOnlySpan<float> up)
    {
        for (int i = 0; i < gate.Length; i++)
        {
            float g = gate[i];
            gate[i] = g / (1f + MathF.Exp(-g)) * up[i];
        }
    }

    /// <summary>The tanh approximation of GELU ("gelu_new", "gelu_pytorch_tanh"), in transformers' order of operations.</summary>
    public static void GeluTanh(Span<float> x)
    {
        const float c = 0.7978845608028654f; // sqrt(2/π)
        Span<float> t = stackalloc float[Math.Min(x.Length, ActivationChunk)];
        for (int start = 0; start < x.Length; start += t.Length)
        {
            var v = x.Slice(start, Math.Min(t.Length, x.Length - start));
            var u = t[..v.Length];
            TensorPrimitives.Multiply(v, v, u);
            TensorPrimitives.Multiply(u, v, u);
            TensorPrimitives.MultiplyAdd(u, 0.044715f, v, u);
            TensorPrimitives.Multiply(u, c, u);
            TensorPrimitives.Tanh(u, u);
            TensorPrimitives.Add(u, 1f, u);
            TensorPrimitives.Multiply(v, 0.5f, v);
            TensorPrimitives.Multiply(v, u, v);
        }
    }

    /// <summary>Exact GELU, 0.5·x·(1 + erf(x/√2)).</summary>
    public static void GeluErf(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++)
            x[i] = (float)(0.5 * x[i] * (1 + Erf(x[i] / Math.Sqrt(2))));
    }

    private const int ActivationChunk = 4096;

    /// <summary>Applies the named activation in place; prompts' long spans are split across the worker team.</summary>
    public static void Activate(string name, Span<float> x) => Activate(Backends.ActivationFunctions.Parse(name), x);

    /// <summary>Applies <paramref name="function"/> in place; prompts' long spans are split across the worker team.</summary>
    public static void Activate(Backends.ActivationFunction function, Span<float> x)
    {
        Action<Span<float>> activation = function switch
        {
            Backends.ActivationFunction.GeluTanh => GeluTanh,
            Backends.ActivationFunction.Gelu => GeluErf,
            Backends.ActivationFunction.Silu => Silu,
            _ => throw new NotSupportedException($"Activation {function} is not supported."),
        };
        if (x.Length <= 4 * ActivationChunk) { activation(x); return; }
        unsafe
        {
            fixed (float* p = x)
            {
                float* start = p;
                int length = x.Length;
                WorkerTeam.For(0, (length + ActivationChunk - 1) / ActivationChunk, c =>
                    activation(new Span<float>(start + (long)c * ActivationChunk, Math.Min(ActivationChunk, length - c * ActivationChunk))));
            }
        }
    }

    private static void Silu(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = x[i] / (1f + MathF.Exp(-x[i]));
    }

    /// <summary>log softmax of a logits row evaluated at one index.</summary>
    public static float LogSoftmaxAt(ReadOnlySpan<float> logits, int index)
    {
        float max = TensorPrimitives.Max(logits);
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        return (float)(logits[index] - max - Math.Log(sum));
    }

    /// <summary>
    /// Per column j of <paramref name="rows"/> (<paramref name="count"/> rows of <paramref name="width"/>): sum[j] += x and
    /// sumOfSquares[j] += x², in float64, row after row in order (parallel over blocks of columns only, so the order per column is fixed).
    /// </summary>
    public static void AccumulateColumns(float[] rows, int count, int width, double[] sum, double[] sumOfSquares)
    {
        void Range(int from, int to)
        {
            for (int r = 0; r < count; r++)
            {
                int offset = r * width;
                for (int j = from; j < to; j++)
                {
                    double v = rows[offset + j];
                    sum[j] += v;
                    sumOfSquares[j] += v * v;
                }
            }
        }
        const int block = 256;
        if ((long)count * width < 1 << 16) Range(0, width);
        else WorkerTeam.For(0, (width + block - 1) / block, b => Range(b * block, Math.Min(width, (b + 1) * block)));
    }

    /// <summary>erf from the Chebyshev fit of erfc in Numerical Recipes (|error| &lt; 1.2e-7, below float32 resolution here).</summary>
    private static double Erf(double x)
    {
        double z = Math.Abs(x), t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - r : r - 1;
    }
}

/// <summary>
/// Rotary position embedding in the "rotate half" layout transformers uses for Llama, Qwen2, Phi and
/// QWen: the first <c>RotaryDim</c> channels of each head are split in two halves that rotate together;
/// the remaining channels (Phi's partial rotary) pass through. Frequencies are computed in float32
/// exactly as transformers does, including linear and Llama-3 scaling.
/// </summary>
public sealed class RotaryEmbedding
{
    private readonly float[] invFreq;

    public RotaryEmbedding(RopeConfig rope) : this(rope.RotaryDim, rope.Theta, rope) { }

    public RotaryEmbedding(int rotaryDim, double theta, RopeConfig? scaling = null)
    {
        RotaryDim = rotaryDim;
        invFreq = new float[rotaryDim / 2];
        for (int i = 0; i < invFreq.Length; i++)
            invFreq[i] = 1f / MathF.Pow((float)theta, (2 * i) / (float)rotaryDim);
        if (scaling is { Type: "linear" })
            for (int i = 0; i < invFreq.Length; i++) invFreq[i] /= (float)scaling.Factor;
        else if (scaling is { Type: "llama3" })
            ApplyLlama3Scaling(scaling);
    }

    public int RotaryDim { get; }

    /// <summary>The float32 inverse frequencies, one per rotary pair (the CUDA engine uploads them).</summary>
    internal ReadOnlySpan<float> InverseFrequencies => invFreq;

    private void ApplyLlama3Scaling(RopeConfig s)
    {
        float factor = (float)s.Factor, low = (float)s.LowFreqFactor, high = (float)s.HighFreqFactor, old = s.OriginalMaxPositions;
        float lowWavelen = old / low, highWavelen = old / high;
        for (int i = 0; i < invFreq.Length; i++)
        {
            float f = invFreq[i], wavelen = 2 * MathF.PI / f;
            float scaled = wavelen > lowWavelen ? f / factor : f;
            if (!(wavelen < highWavelen) && !(wavelen > lowWavelen))
            {
                float smooth = (old / wavelen - low) / (high - low);
                scaled = (1 - smooth) * scaled / factor + smooth * scaled;
            }
            invFreq[i] = scaled;
        }
    }

    /// <summary>Rotates every head of one token's q or k vector (heads × headDim) for position <paramref name="position"/>.</summary>
    public void Apply(Span<float> vector, int heads, int headDim, int position)
    {
        int half = RotaryDim / 2;
        Span<float> cos = stackalloc float[half], sin = stackalloc float[half];
        for (int i = 0; i < half; i++)
        {
            float angle = position * invFreq[i];
            cos[i] = MathF.Cos(angle);
            sin[i] = MathF.Sin(angle);
        }
        for (int h = 0; h < heads; h++)
        {
            var v = vector.Slice(h * headDim, headDim);
            for (int i = 0; i < half; i++)
            {
                float x1 = v[i], x2 = v[i + half];
                v[i] = x1 * cos[i] - x2 * sin[i];
                v[i + half] = x2 * cos[i] + x1 * sin[i];
            }
        }
    }
}
