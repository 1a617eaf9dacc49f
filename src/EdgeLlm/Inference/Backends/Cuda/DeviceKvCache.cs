using EdgeLlm.Inference.Backends;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>
/// One sequence's keys and values on the device, float16, per layer [position][kv_heads · head_dim] (the CPU
/// cache's layout), and the decode graphs captured for it (they hold its addresses). The <see cref="KvCache"/>
/// it belongs to keeps the length. Its device memory is freed when the engine finds the cache unreachable
/// (<see cref="DeviceKvMemory"/>), or when the engine is disposed.
/// </summary>
internal sealed class DeviceKvCache : IKvStorage
{
    /// <summary>Positions per flash-decoding split (ATT_SPLIT in kernels/attention.cu).</summary>
    public const int AttentionSplit = Profiling.CudaMemoryModel.AttentionSplit;

    private readonly CudaEngine engine;

    public DeviceKvCache(CudaEngine engine, int capacity)
    {
        this.engine = engine;
        Memory = new DeviceKvMemory(engine, capacity);
    }

    /// <summary>The current allocation (replaced, not resized, when the cache grows).</summary>
    public DeviceKvMemory Memory { get; private set; }

    public int Capacity => Memory.Capacity;
    public long Bytes => 2 * Memory.Bytes;
    public int Splits => Memory.Splits;
    public ulong Partials => Memory.Partials;
    public ulong LayerKeys(int layer) => Memory.Keys + (ulong)Memory.LayerOffsets[layer];
    public ulong LayerValues(int layer) => Memory.Values + (ulong)Memory.LayerOffsets[layer];

    /// <summary>The decode step without the head (ForwardHidden) and with head + argmax (greedy decoding).</summary>
    public CudaGraph? BodyGraph { get => Memory.BodyGraph; set => Memory.BodyGraph = value; }
    public CudaGraph? StepGraph { get => Memory.StepGraph; set => Memory.StepGraph = value; }

    public void Grow(int capacity, int keep)
    {
        var grown = engine.AllocateMemory(capacity);
        CopyPositions(Memory, grown, keep);
        engine.Replace(this, Memory, grown);
        Memory.Release();
        Memory = grown;
    }

    public IKvStorage Copy(int length, int capacity)
    {
        var copy = engine.AllocateCache(Math.Max(capacity, length));
        CopyPositions(Memory, copy.Memory, length);
        return copy;
    }

    private void CopyPositions(DeviceKvMemory from, DeviceKvMemory to, int positions)
    {
        var widths = engine.KvWidths;
        for (int l = 0; l < widths.Length; l++)
        {
            long bytes = (long)positions * widths[l] * 2;
            if (bytes == 0) continue;
            engine.Device.CopyAsync(to.Keys + (ulong)to.LayerOffsets[l], from.Keys + (ulong)from.LayerOffsets[l], bytes);
            engine.Device.CopyAsync(to.Values + (ulong)to.LayerOffsets[l], from.Values + (ulong)from.LayerOffsets[l], bytes);
        }
        engine.Device.Synchronize();
    }
}

/// <summary>The device memory behind a <see cref="DeviceKvCache"/>: keys, values, attention partials, and its graphs.</summary>
internal sealed class DeviceKvMemory
{
    private readonly CudaDevice device;

    public DeviceKvMemory(CudaEngine engine, int capacity)
    {
        device = engine.Device;
        Capacity = capacity;
        var widths = engine.KvWidths;
        LayerOffsets = new long[widths.Length];
        long offset = 0;
        for (int l = 0; l < widths.Length; l++) { LayerOffsets[l] = offset; offset += (long)capacity * widths[l] * 2; }
        Bytes = offset;
        Splits = (capacity + DeviceKvCache.AttentionSplit - 1) / DeviceKvCache.AttentionSplit;
        Keys = device.Alloc(Bytes, "KV cache keys");
        try
        {
            Values = device.Alloc(Bytes, "KV cache values");
            Partials = device.Alloc((long)engine.MaxHeads * Splits * (engine.Config.HeadDim + 2) * 4, "attention partials");
        }
        catch
        {
            Release();
            throw;
        }
    }

    public int Capacity { get; }
    public long Bytes { get; }
    public long[] LayerOffsets { get; }
    public int Splits { get; }
    public ulong Keys { get; }
    public ulong Values { get; }
    public ulong Partials { get; }
    public CudaGraph? BodyGraph { get; set; }
    public CudaGraph? StepGraph { get; set; }
    public bool Released { get; private set; }

    public void Release()
    {
        if (Released) return;
        Released = true;
        device.Synchronize(); // a greedy decoder's queued step may still run on this memory and its graph
        BodyGraph?.Dispose();
        StepGraph?.Dispose();
        device.Free(Keys);
        device.Free(Values);
        device.Free(Partials);
    }
}
