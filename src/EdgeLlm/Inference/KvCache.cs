namespace EdgeLlm.Inference;

/// <summary>
/// The keys and values one sequence has produced so far, per layer, in float32, laid out
/// [position][kvHead·headDim] so that appending never moves earlier positions' layout. Capacity
/// grows by doubling up to the model's context. <see cref="Truncate"/> and <see cref="Clone"/> let
/// several continuations share one prefilled prompt.
/// </summary>
public sealed class KvCache
{
    private readonly float[][] keys;
    private readonly float[][] values;
    private readonly int width;

    public KvCache(int layers, int kvHeads, int headDim, int maxLength, int initialCapacity = 64)
    {
        width = kvHeads * headDim;
        MaxLength = maxLength;
        Capacity = Math.Min(Math.Max(initialCapacity, 1), maxLength);
        keys = new float[layers][];
        values = new float[layers][];
        for (int l = 0; l < layers; l++)
        {
            keys[l] = new float[Capacity * width];
            values[l] = new float[Capacity * width];
        }
    }

    /// <summary>Positions stored (the next token's position).</summary>
    public int Length { get; private set; }
    public int Capacity { get; private set; }
    public int MaxLength { get; }
    public int Layers => keys.Length;
    public long Bytes => 2L * keys.Length * Capacity * width * sizeof(float);

    internal float[] Keys(int layer) => keys[layer];
    internal float[] Values(int layer) => values[layer];
    internal int Width => width;

    /// <summary>Makes room for <paramref name="count"/> more positions.</summary>
    internal void Reserve(int count)
    {
        int needed = Length + count;
        if (needed > MaxLength)
            throw new InvalidOperationException($"Sequence of {needed} tokens exceeds the model's context of {MaxLength}.");
        if (needed <= Capacity) return;
        int capacity = Math.Min(MaxLength, Math.Max(needed, Capacity * 2));
        for (int l = 0; l < keys.Length; l++)
        {
            Array.Resize(ref keys[l], capacity * width);
            Array.Resize(ref values[l], capacity * width);
        }
        Capacity = capacity;
    }

    internal void Advance(int count) => Length += count;

    /// <summary>Forgets every position from <paramref name="length"/> on.</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
    }

    public KvCache Clone()
    {
        var copy = new KvCache(keys.Length, 1, width, MaxLength, Math.Max(Length, 1));
        for (int l = 0; l < keys.Length; l++)
        {
            Array.Copy(keys[l], copy.keys[l], Length * width);
            Array.Copy(values[l], copy.values[l], Length * width);
        }
        copy.Length = Length;
        return copy;
    }
}
