namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>
/// The device pool every <see cref="CudaBackend"/> sequence takes its keys and values from: fixed-size blocks of
/// <see cref="BlockTokens"/> positions, float16, each holding all layers (layer l at <see cref="LayerOffset"/>(l): its
/// keys <c>[BlockTokens][width_l]</c>, then its values). Blocks are carved from slabs of device memory that are never
/// moved, so a block's address stays valid while a sequence holds it; a sequence returns its blocks when it is released
/// or collected. A block may be held by several sequences (a shared prompt prefix, <see cref="PagedKvStorage.Share"/>):
/// it is counted, and free again when the last one returns it. The layout is the one <c>kv_slot</c> in kernels/paged_attention.cu reads.
/// </summary>
internal sealed class PagedKvPool : IDisposable
{
    /// <summary>Positions per block (kernels/paged_attention.cu's KV_BLOCK_TOKENS is the same number).</summary>
    public const int BlockTokens = 16;

    /// <summary>A block's bytes are rounded up to this; a slab holds as many blocks as fit in <see cref="SlabBytes"/>, 1 to <see cref="MaxBlocksPerSlab"/>
    /// (<see cref="Profiling.CudaMemoryModel.PagedKvBytes"/> predicts the pool from these).</summary>
    public const int BlockAlignment = 256, MaxBlocksPerSlab = 4096;
    public const long SlabBytes = 256L << 20;

    private readonly CudaDevice device;
    private readonly long[] layerOffsets;
    private readonly List<ulong> slabs = new();
    private readonly Stack<ulong> free = new();
    private readonly Dictionary<ulong, int> holders = new(); // blocks held by more than one sequence: how many
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
            foreach (var b in blocks)
            {
                if (holders.TryGetValue(b, out int n))
                {
                    if (n == 2) holders.Remove(b); else holders[b] = n - 1;
                    continue;
                }
                free.Push(b);
                BlocksInUse--;
            }
    }

    /// <summary>One more sequence holds <paramref name="block"/> (taken before, not yet returned).</summary>
    public void Hold(ulong block)
    {
        lock (gate) holders[block] = holders.TryGetValue(block, out int n) ? n + 1 : 2;
    }

    /// <summary>Whether more than one sequence holds <paramref name="block"/>.</summary>
    public bool IsShared(ulong block)
    {
        lock (gate) return holders.ContainsKey(block);
    }

    /// <summary>Blocks held by more than one sequence.</summary>
    public int SharedBlocks
    {
        get { lock (gate) return holders.Count; }
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
            holders.Clear();
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
        int used = (length + PagedKvPool.BlockTokens - 1) / PagedKvPool.BlockTokens;
        for (int i = 0; i < used; i++) pool.CopyBlock(copy.blocks[i], blocks[i]);
        return copy;
    }

    /// <summary>
    /// The blocks wholly inside the first <paramref name="length"/> positions are held, not copied (positions below a
    /// cache's length are never written again, so both tables can point at them); the block the prefix ends in is
    /// copied, since this storage goes on writing into it.
    /// </summary>
    public IKvStorage Share(int length, int capacity)
    {
        int whole = length / PagedKvPool.BlockTokens;
        var shared = new PagedKvStorage(pool, 0);
        for (int i = 0; i < whole; i++) { pool.Hold(blocks[i]); shared.blocks.Add(blocks[i]); }
        if (length % PagedKvPool.BlockTokens != 0)
        {
            shared.Grow((whole + 1) * PagedKvPool.BlockTokens, 0);
            pool.CopyBlock(shared.blocks[whole], blocks[whole]);
        }
        shared.Grow(Math.Max(capacity, length), length);
        return shared;
    }

    /// <summary>
    /// Shared blocks from the one holding <paramref name="from"/> on (a truncated cache writes there again) become copies
    /// of their own. Shared blocks are always a leading run of a table, so the first unshared one ends the search.
    /// </summary>
    public void PrepareWrite(int from)
    {
        for (int i = from / PagedKvPool.BlockTokens; i < blocks.Count; i++)
        {
            if (!pool.IsShared(blocks[i])) break;
            ulong own = pool.Take(1)[0];
            pool.CopyBlock(own, blocks[i]);
            pool.Return([blocks[i]]);
            blocks[i] = own;
        }
    }
}
