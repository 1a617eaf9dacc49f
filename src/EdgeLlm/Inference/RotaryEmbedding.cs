using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference;

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

    /// <summary>The float32 inverse frequencies, one per rotary pair (a device backend uploads them).</summary>
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
