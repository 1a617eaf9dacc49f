namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>
/// Greedy decoding on the device: prefill, then one graph replay per token; only the token comes back. The step after the
/// token a call returns is already queued when it returns (its input is the device's own argmax), so the GPU runs it while
/// the caller looks at the token: no step waits for the host. The queued step is taken when the caller passes that token
/// back; otherwise (another token, the cache used elsewhere, another decoder in between) it is left unused: it wrote only
/// past the cache's length and the step buffers that every later launch overwrites. No step is queued past the caller's
/// <c>maxNewTokens</c> or the cache's capacity.
/// </summary>
internal sealed class CudaGreedyDecoder(CudaEngine model, KvCache cache) : IGreedyDecoder
{
    private int limit, returned, last;
    private int queuedSlot = -1, queuedAt;
    /// <summary>Names this decoder in <see cref="CudaEngine.QueuedBy"/> without keeping it, or its cache, alive.</summary>
    private readonly object id = new();

    public int First(int[] prompt, int maxNewTokens, CancellationToken cancellationToken)
    {
        if (prompt.Length == 0) throw new ArgumentException("The prompt needs at least one token.", nameof(prompt));
        model.Device.MakeCurrent();
        model.EnqueueFirst(cache, prompt, cancellationToken);
        limit = Math.Max(1, maxNewTokens);
        returned = 0;
        return Take(model.Readback.Queue(model.DecodeToken));
    }

    public int Next(int token)
    {
        model.Device.MakeCurrent();
        if (queuedSlot >= 0 && token == last && queuedAt == cache.Length && ReferenceEquals(model.QueuedBy, id))
        {
            cache.Advance(1);
            return Take(queuedSlot);
        }
        model.EnqueueNext(cache, token);
        cache.Advance(1);
        return Take(model.Readback.Queue(model.DecodeToken));
    }

    /// <summary>Queues the following step if the caller may want it, then waits for the token in <paramref name="slot"/>.</summary>
    private int Take(int slot)
    {
        returned++;
        queuedSlot = -1;
        if (returned < limit && cache.Storage is DeviceKvCache device && device.Capacity > cache.Length)
        {
            model.EnqueueQueued(device);
            queuedSlot = model.Readback.Queue(model.DecodeToken);
            queuedAt = cache.Length;
            model.QueuedBy = id;
        }
        return last = model.Readback.Wait(slot);
    }
}

/// <summary>
/// Two pinned host slots for tokens copied back from the device, each with an event: a copy is queued on the stream after
/// the step that writes the token, and the host waits for that copy alone, not for the stream (a later step may be queued).
/// </summary>
internal sealed unsafe class TokenReadback : IDisposable
{
    private readonly CudaDevice device;
    private readonly int* slots;
    private readonly IntPtr[] events = new IntPtr[2];
    private int next;

    public TokenReadback(CudaDevice device)
    {
        this.device = device;
        void* p;
        Cu.Check(Cu.cuMemAllocHost_v2(&p, 2 * sizeof(int)), "cuMemAllocHost");
        slots = (int*)p;
        for (int i = 0; i < 2; i++)
        {
            IntPtr e;
            Cu.Check(Cu.cuEventCreate(&e, Cu.EventDisableTiming), "cuEventCreate");
            events[i] = e;
        }
    }

    /// <summary>Queues a copy of the int at <paramref name="source"/> into the next slot; returns the slot.</summary>
    public int Queue(ulong source)
    {
        int slot = next;
        next ^= 1;
        Cu.Check(Cu.cuMemcpyDtoHAsync_v2(slots + slot, source, sizeof(int), device.Stream), "cuMemcpyDtoHAsync");
        Cu.Check(Cu.cuEventRecord(events[slot], device.Stream), "cuEventRecord");
        return slot;
    }

    /// <summary>Waits for the copy queued into <paramref name="slot"/>; a failed kernel before it surfaces here.</summary>
    public int Wait(int slot)
    {
        Cu.Check(Cu.cuEventSynchronize(events[slot]), "cuEventSynchronize (a kernel failed)");
        return slots[slot];
    }

    public void Dispose()
    {
        foreach (var e in events) Cu.cuEventDestroy_v2(e);
        Cu.cuMemFreeHost(slots);
    }
}
