namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>
/// The device pool every <see cref="CudaBackend"/> sequence takes its keys and values from: fixed-size blocks of
/// <see cref="BlockTokens"/> positions, float16, each holding all layers (layer l at <see cref="LayerOffset"/>(l): its
/// keys <c>[BlockTokens][width_l]</c>, then its values). Blocks are carved from slabs of device memory that are never
/// moved, so a block's address stays valid while a sequence holds it; a sequence returns its blocks when it is released
/// or collected. The layout is the one <c>kv_slot</c> in kernels/backend.cu reads.
/// </summary>
internal sealed class PagedKvPool : IDisposable
{
    /// <summary>Positions per block.</summary>
    public const int BlockTokens = 16;

    /// <summary>A block's bytes are rounded up to this; a slab holds as many blocks as fit in <see cref="SlabBytes"/>, 1 to <see cref="MaxBlocksPerSlab"/>
    /// (<see cref="Profiling.CudaMemoryModel.PagedKvBytes"/> predicts the pool from these).</summary>
    public const int BlockAlignment = 256, MaxBlocksPerSlab = 4096;
    public const long SlabBytes = 256L << 20;

    private readonly CudaDevice device;
    private readonly long[] layerOffsets;
    private readonly List<ulong> slabs = new();
    private readonly Stack<ulong> free = new();
    private readonly object gate = new();

    public PagedKvPool(CudaDevice device, IReadOnlyList<int> layerWidths)
    {
        this.device = device;
        LayerWidths = layerWidths.ToArray();
        layerOffsets = new long[LayerWidths.Length];
        long offset = 0;
        for (int l = 0; l < LayerWidths.Length; l++) { layerOffsets[l] = offset; offset += 2L * BlockTokens * LayerWidths[l] * 2; }
        BlockBytes = (offset + BlockAlignment - 1) / BlockAlignment * BlockAlignment;
        BlocksPerSlab = (int)Math.Clamp(SlabBytes / BlockBytes, 1, MaxBlocksPerSlab);
    }

    public int[] LayerWidths { get; }
    public long BlockBytes { get; }
    public int BlocksPerSlab { get; }
    public long LayerOffset(int layer) => layerOffsets[layer];
    public int BlocksInUse { get; private set; }
    /// <summary>Bytes of device memory the pool holds (blocks in use and free).</summary>
    public long Bytes => slabs.Count * BlocksPerSlab * BlockBytes;

    /// <summary>Takes <paramref name="count"/> blocks; a new slab when the free ones run out, after letting collected sequences return theirs.</summary>
    public ulong[] Take(int count)
    {
        var result = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            lock (gate)
            {
                if (free.Count == 0 && BlocksInUse > 0 && slabs.Count > 0 && TryReclaim()) { }
                if (free.Count == 0) AddSlab();
                result[i] = free.Pop();
                BlocksInUse++;
            }
        }
        return result;
    }

    public void Return(IEnumerable<ulong> blocks)
    {
        lock (gate)
            foreach (var b in blocks) { free.Push(b); BlocksInUse--; }
    }

    // Sequences nobody references return their blocks from their finalizers; run those before growing the pool.
    private bool TryReclaim()
    {
        Monitor.Exit(gate);
        try { GC.Collect(); GC.WaitForPendingFinalizers(); }
        finally { Monitor.Enter(gate); }
        return free.Count > 0;
    }

    private void AddSlab()
    {
        ulong slab = device.Alloc(BlocksPerSlab * BlockBytes, "paged KV cache slab");
        slabs.Add(slab);
        for (int i = BlocksPerSlab - 1; i >= 0; i--) free.Push(slab + (ulong)(i * BlockBytes));
    }

    public void CopyBlock(ulong to, ulong from) => device.CopyAsync(to, from, BlockBytes);

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var s in slabs) device.Free(s);
            slabs.Clear();
            free.Clear();
        }
    }
}

/// <summary>One sequence's keys and values in a <see cref="PagedKvPool"/>: its block table (block i holds positions i·16 …).</summary>
internal sealed class PagedKvStorage : IKvStorage
{
    private readonly PagedKvPool pool;
    private readonly List<ulong> blocks = new();

    public PagedKvStorage(PagedKvPool pool, int capacity)
    {
        this.pool = pool;
        Grow(capacity, 0);
    }

    ~PagedKvStorage()
    {
        if (blocks.Count > 0) pool.Return(blocks);
    }

    /// <summary>The block addresses in position order.</summary>
    public IReadOnlyList<ulong> Blocks => blocks;

    public int Capacity => blocks.Count * PagedKvPool.BlockTokens;

    public long Bytes => blocks.Count * pool.BlockBytes;

    /// <summary>Adds blocks; nothing moves (the table only gets longer).</summary>
    public void Grow(int capacity, int keep)
    {
        int needed = (capacity + PagedKvPool.BlockTokens - 1) / PagedKvPool.BlockTokens - blocks.Count;
        if (needed > 0) blocks.AddRange(pool.Take(needed));
    }

    /// <summary>Gives every block back to the pool (the cache reads as empty; a later Reserve takes new ones).</summary>
    public void Release()
    {
        pool.Return(blocks);
        blocks.Clear();
    }

    public IKvStorage Copy(int length, int capacity)
    {
        var copy = new PagedKvStorage(pool, Math.Max(capacity, length));
        int full = (length + PagedKvPool.BlockTokens - 1) / PagedKvPool.BlockTokens;
        for (int i = 0; i < full; i++) CopyBlock(copy.blocks[i], blocks[i]);
        return copy;
    }

    private void CopyBlock(ulong to, ulong from) => pool.CopyBlock(to, from);
}
