using EdgeLlm.Inference.Backends;

namespace EdgeLlm.Inference;

/// <summary>
/// The keys and values one sequence has produced so far, per layer, in the backend's storage
/// (<see cref="IBackend.CreateKvStorage"/>; CPU: float32, [position][kvHead·headDim]). Capacity grows by
/// doubling up to the model's context. <see cref="Truncate"/>, <see cref="Clone"/> and <see cref="SharePrefix"/> let
/// several continuations share one prefilled prompt.
/// </summary>
public sealed class KvCache
{
    /// <summary>A host (CPU backend) cache of uniform layers.</summary>
    public KvCache(int layers, int kvHeads, int headDim, int maxLength, int initialCapacity = 64)
        : this(Enumerable.Repeat(kvHeads * headDim, layers).ToArray(), maxLength, initialCapacity) { }

    /// <summary>A host (CPU backend) cache whose layers may differ in width (key/value heads × head_dim), as a non-uniform pruned model's do.</summary>
    public KvCache(IReadOnlyList<int> layerWidths, int maxLength, int initialCapacity = 64)
        : this(capacity => new HostKvStorage(layerWidths, capacity), layerWidths.Count, maxLength, initialCapacity) { }

    internal KvCache(Func<int, IKvStorage> create, int layers, int maxLength, int initialCapacity)
    {
        MaxLength = maxLength;
        Layers = layers;
        Storage = create(Math.Min(Math.Max(initialCapacity, 1), maxLength));
    }

    private KvCache(IKvStorage storage, int layers, int maxLength, int length)
    {
        Storage = storage;
        Layers = layers;
        MaxLength = maxLength;
        Length = length;
    }

    /// <summary>The backend's storage; backends read and write it in <see cref="IBackend.Attention"/>.</summary>
    public IKvStorage Storage { get; }

    /// <summary>Positions stored (the next token's position).</summary>
    public int Length { get; private set; }
    public int Capacity => Storage.Capacity;
    public int MaxLength { get; }
    public int Layers { get; }
    public long Bytes => Storage.Bytes;

    /// <summary>Makes room for <paramref name="count"/> more positions.</summary>
    internal void Reserve(int count)
    {
        int needed = Length + count;
        if (needed > MaxLength)
            throw new InvalidOperationException($"Sequence of {needed} tokens exceeds the model's context of {MaxLength}.");
        Storage.PrepareWrite(Length);
        if (needed <= Capacity) return;
        Storage.Grow(Math.Min(MaxLength, Math.Max(needed, Capacity * 2)), Length);
    }

    internal void Advance(int count) => Length += count;

    /// <summary>Forgets every position from <paramref name="length"/> on.</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
    }

    /// <summary>Empties the cache and gives its storage's memory back now (<see cref="IKvStorage.Release"/>); storing again takes new room.</summary>
    public void Release()
    {
        Storage.Release();
        Length = 0;
    }

    public KvCache Clone() => new(Storage.Copy(Length, Math.Max(Length, 1)), Layers, MaxLength, Length);

    /// <summary>
    /// A new cache holding this one's first <paramref name="length"/> positions, with room for <paramref name="capacity"/>:
    /// the backend shares what it can instead of copying (<see cref="IKvStorage.Share"/>). Either cache may go on
    /// appending; neither sees the other's later positions.
    /// </summary>
    public KvCache SharePrefix(int length, int capacity)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length), $"The cache holds {Length} positions; cannot share {length}.");
        int room = Math.Min(MaxLength, Math.Max(Math.Max(capacity, length), 1));
        return new(Storage.Share(length, room), Layers, MaxLength, length);
    }
}
