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
    private readonly int[] widths;

    public KvCache(int layers, int kvHeads, int headDim, int maxLength, int initialCapacity = 64)
        : this(Enumerable.Repeat(kvHeads * headDim, layers).ToArray(), maxLength, initialCapacity) { }

    /// <summary>A cache whose layers may differ in width (key/value heads × head_dim), as a non-uniform pruned model's do.</summary>
    public KvCache(IReadOnlyList<int> layerWidths, int maxLength, int initialCapacity = 64)
    {
        widths = layerWidths.ToArray();
        MaxLength = maxLength;
        Capacity = Math.Min(Math.Max(initialCapacity, 1), maxLength);
        keys = new float[widths.Length][];
        values = new float[widths.Length][];
        for (int l = 0; l < widths.Length; l++)
        {
            keys[l] = new float[Capacity * widths[l]];
            values[l] = new float[Capacity * widths[l]];
        }
    }

    /// <summary>Positions stored (the next token's position).</summary>
    public int Length { get; private set; }
    public int Capacity { get; private set; }
    public int MaxLength { get; }
    public int Layers => keys.Length;
    public long Bytes => 2L * Capacity * widths.Sum(w => (long)w) * sizeof(float);

    internal float[] Keys(int layer) => keys[layer];
    internal float[] Values(int layer) => values[layer];

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
            Array.Resize(ref keys[l], capacity * widths[l]);
            Array.Resize(ref values[l], capacity * widths[l]);
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

    /// <summary>The keys and values of a device backend (the host arrays then stay empty); cloned with the cache.</summary>
    internal IKvCacheBackend? Backend { get; set; }

    public KvCache Clone()
    {
        if (Backend != null)
            return new KvCache(widths, MaxLength, 1) { Backend = Backend.Clone(Length), Length = Length };
        var copy = new KvCache(widths, MaxLength, Math.Max(Length, 1));
        for (int l = 0; l < keys.Length; l++)
        {
            Array.Copy(keys[l], copy.keys[l], Length * widths[l]);
            Array.Copy(values[l], copy.values[l], Length * widths[l]);
        }
        copy.Length = Length;
        return copy;
    }
}

/// <summary>A backend's own storage for one <see cref="KvCache"/> (CUDA: device memory).</summary>
internal interface IKvCacheBackend
{
    IKvCacheBackend Clone(int length);
}
