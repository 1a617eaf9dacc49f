namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>
/// One sequence's keys and values on the device, float16, per layer [position][kv_heads · head_dim]
/// (the CPU cache's layout), with the decode graphs captured for it (they bake its addresses in).
/// The <see cref="KvCache"/> it belongs to keeps the length; this keeps the memory.
/// </summary>
internal sealed class DeviceKvCache : IKvCacheBackend
{
    private readonly CudaCausalLM model;

    public DeviceKvCache(CudaCausalLM model, int capacity)
    {
        this.model = model;
        Capacity = capacity;
        var widths = model.KvWidths;
        LayerOffsets = new long[widths.Length];
        long offset = 0;
        for (int l = 0; l < widths.Length; l++) { LayerOffsets[l] = offset; offset += (long)capacity * widths[l] * 2; }
        Bytes = offset;
        Keys = model.Device.Alloc(Bytes, "KV cache keys");
        Values = model.Device.Alloc(Bytes, "KV cache values");
        Splits = (capacity + AttentionSplit - 1) / AttentionSplit;
        Partials = model.Device.Alloc((long)model.MaxHeads * Splits * (model.Config.HeadDim + 2) * 4, "attention partials");
    }

    /// <summary>Positions per flash-decoding split (ATT_SPLIT in kernels/attention.cu).</summary>
    public const int AttentionSplit = 128;

    public int Capacity { get; }
    public long Bytes { get; }
    public ulong Keys { get; }
    public ulong Values { get; }
    public long[] LayerOffsets { get; }
    public int Splits { get; }
    public ulong Partials { get; }
    public bool Released { get; private set; }
    /// <summary>The decode step without the head (for ForwardHidden) and with head + argmax (greedy decoding).</summary>
    public CudaGraph? BodyGraph { get; set; }
    public CudaGraph? StepGraph { get; set; }

    public ulong LayerKeys(int layer) => Keys + (ulong)LayerOffsets[layer];
    public ulong LayerValues(int layer) => Values + (ulong)LayerOffsets[layer];

    public IKvCacheBackend Clone(int length)
    {
        var copy = model.AllocateCache(Capacity);
        model.Device.CopyAsync(copy.Keys, Keys, Bytes);
        model.Device.CopyAsync(copy.Values, Values, Bytes);
        return copy;
    }

    public void Release()
    {
        if (Released) return;
        Released = true;
        BodyGraph?.Dispose();
        StepGraph?.Dispose();
        model.Device.Free(Keys);
        model.Device.Free(Values);
        model.Device.Free(Partials);
    }
}
