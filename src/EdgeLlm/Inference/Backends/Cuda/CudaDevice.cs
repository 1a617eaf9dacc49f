using System.Runtime.InteropServices;
using System.Text;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>What <c>--device</c> names: the CPU engine, or CUDA device N.</summary>
public sealed record DeviceSelection(bool IsCuda, int Ordinal)
{
    public static readonly DeviceSelection Cpu = new(false, 0);

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public static DeviceSelection Parse(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "cuda") return new(true, 0);
        if (t.StartsWith("cuda:") && int.TryParse(t[5..], out int n) && n >= 0) return new(true, n);
        throw new ArgumentException($"--device '{text}': expected cpu, cuda or cuda:N.");
    }

    public override string ToString() => IsCuda ? $"cuda:{Ordinal}" : "cpu";
}

/// <summary>
/// One CUDA device: its primary context, one stream, the engine's compiled kernels, and an allocator
/// that counts what it holds (the high-water mark is the engine's peak device memory).
/// </summary>
internal sealed unsafe class CudaDevice : IDisposable
{
    private readonly Dictionary<ulong, long> allocations = new();
    private readonly IntPtr context;
    private IntPtr module;
    private readonly Dictionary<string, IntPtr> functions = new();

    private CudaDevice(int ordinal, int handle, IntPtr context, IntPtr stream)
    {
        Ordinal = ordinal; Handle = handle; this.context = context; Stream = stream;
        var name = stackalloc byte[256];
        Cu.Check(Cu.cuDeviceGetName(name, 256, handle), "cuDeviceGetName");
        Name = Marshal.PtrToStringUTF8((IntPtr)name)!;
        int major, minor, sms, smem;
        Cu.Check(Cu.cuDeviceGetAttribute(&major, Cu.AttrComputeMajor, handle), "cuDeviceGetAttribute");
        Cu.Check(Cu.cuDeviceGetAttribute(&minor, Cu.AttrComputeMinor, handle), "cuDeviceGetAttribute");
        Cu.Check(Cu.cuDeviceGetAttribute(&sms, Cu.AttrMultiprocessors, handle), "cuDeviceGetAttribute");
        Cu.Check(Cu.cuDeviceGetAttribute(&smem, Cu.AttrMaxSharedPerBlockOptin, handle), "cuDeviceGetAttribute");
        ComputeMajor = major; ComputeMinor = minor; Multiprocessors = sms; MaxSharedPerBlock = smem;
        ProgrammaticLaunch = major >= 9 && Environment.GetEnvironmentVariable("EDGELLM_CUDA_PDL") != "0";
        ulong total;
        Cu.Check(Cu.cuDeviceTotalMem_v2(&total, handle), "cuDeviceTotalMem");
        TotalBytes = (long)total;
    }

    public int Ordinal { get; }
    public int Handle { get; }
    public string Name { get; }
    public int ComputeMajor { get; }
    public int ComputeMinor { get; }
    public int Multiprocessors { get; }
    public int MaxSharedPerBlock { get; }
    public long TotalBytes { get; }
    public IntPtr Stream { get; }
    public string Architecture => $"sm_{ComputeMajor}{ComputeMinor}";

    /// <summary>"cuda:0 (NVIDIA H200, sm_90, 132 SMs)" for the device selected as <paramref name="selection"/>.</summary>
    public string Describe(object selection) => $"{selection} ({Name}, {Architecture}, {Multiprocessors} SMs)";
    /// <summary>Bytes this engine holds on the device now, and the most it has held.</summary>
    public long AllocatedBytes { get; private set; }
    public long PeakAllocatedBytes { get; private set; }

    /// <summary>The driver's free device memory just after the allocation that set <see cref="PeakAllocatedBytes"/> (every process's use counts).</summary>
    public long FreeAtPeakBytes { get; private set; }
    public string KernelCacheNote { get; private set; } = "";

    /// <summary>Starts the high-water mark again from what is held now (after a benchmark's own probes).</summary>
    public void ResetPeak()
    {
        PeakAllocatedBytes = AllocatedBytes;
        FreeAtPeakBytes = MemoryInfo().Free;
    }

    /// <summary>Device names the driver sees, for error messages.</summary>
    public static IReadOnlyList<string> List()
    {
        InitDriver();
        int count;
        Cu.Check(Cu.cuDeviceGetCount(&count), "cuDeviceGetCount");
        var names = new List<string>();
        var buffer = stackalloc byte[256];
        for (int i = 0; i < count; i++)
        {
            int h;
            Cu.Check(Cu.cuDeviceGet(&h, i), "cuDeviceGet");
            Cu.Check(Cu.cuDeviceGetName(buffer, 256, h), "cuDeviceGetName");
            names.Add($"cuda:{i} {Marshal.PtrToStringUTF8((IntPtr)buffer)}");
        }
        return names;
    }

    private static void InitDriver()
    {
        CudaLibraries.EnsureDriver();
        int r = Cu.cuInit(0);
        if (r == 100) throw new CudaUnavailableException("no CUDA device: the driver (libcuda.so.1) found no GPU");
        if (r != 0) throw new CudaUnavailableException($"no CUDA: cuInit failed with CUDA error {r}");
    }

    public static CudaDevice Open(int ordinal)
    {
        var devices = List();
        if (ordinal >= devices.Count)
            throw new CudaUnavailableException($"no device cuda:{ordinal}: this machine has {devices.Count} ({string.Join(", ", devices)})");
        int handle;
        Cu.Check(Cu.cuDeviceGet(&handle, ordinal), "cuDeviceGet");
        IntPtr ctx, stream;
        Cu.Check(Cu.cuDevicePrimaryCtxRetain(&ctx, handle), "cuDevicePrimaryCtxRetain");
        Cu.Check(Cu.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
        Cu.Check(Cu.cuStreamCreate(&stream, 1), "cuStreamCreate");
        return new CudaDevice(ordinal, handle, ctx, stream);
    }

    /// <summary>Makes this device's context current on the calling thread (every public engine call does).</summary>
    public void MakeCurrent() => Cu.Check(Cu.cuCtxSetCurrent(context), "cuCtxSetCurrent");

    public (long Free, long Total) MemoryInfo()
    {
        ulong free, total;
        Cu.Check(Cu.cuMemGetInfo_v2(&free, &total), "cuMemGetInfo");
        return ((long)free, (long)total);
    }

    public ulong Alloc(long bytes, string what)
    {
        ulong p;
        int r = Cu.cuMemAlloc_v2(&p, (ulong)Math.Max(bytes, 16));
        if (r == 2)
        {
            var (free, total) = MemoryInfo();
            throw new CudaException($"out of device memory allocating {bytes >> 20} MiB for {what} ({free >> 20} of {total >> 20} MiB free on {Name})");
        }
        Cu.Check(r, $"cuMemAlloc ({what})");
        allocations[p] = bytes;
        AllocatedBytes += bytes;
        if (AllocatedBytes > PeakAllocatedBytes)
        {
            PeakAllocatedBytes = AllocatedBytes;
            FreeAtPeakBytes = MemoryInfo().Free; // a driver call per new high-water mark only: a few hundred while weights load
        }
        return p;
    }

    public void Free(ulong pointer)
    {
        if (pointer == 0 || !allocations.Remove(pointer, out var bytes)) return;
        Cu.Check(Cu.cuMemFree_v2(pointer), "cuMemFree");
        AllocatedBytes -= bytes;
    }

    public void Upload(ulong destination, void* source, long bytes) =>
        Cu.Check(Cu.cuMemcpyHtoD_v2(destination, source, (ulong)bytes), "cuMemcpyHtoD");

    public void Upload<T>(ulong destination, ReadOnlySpan<T> source) where T : unmanaged
    {
        fixed (T* p = source) Upload(destination, p, (long)source.Length * sizeof(T));
    }

    /// <summary>Copies device memory to the host after the stream's work so far (synchronises).</summary>
    public void Download<T>(Span<T> destination, ulong source) where T : unmanaged
    {
        fixed (T* p = destination)
            Cu.Check(Cu.cuMemcpyDtoHAsync_v2(p, source, (ulong)((long)destination.Length * sizeof(T)), Stream), "cuMemcpyDtoH");
        Synchronize();
    }

    public void UploadAsync<T>(ulong destination, ReadOnlySpan<T> source) where T : unmanaged
    {
        fixed (T* p = source)
            Cu.Check(Cu.cuMemcpyHtoDAsync_v2(destination, p, (ulong)((long)source.Length * sizeof(T)), Stream), "cuMemcpyHtoD");
    }

    public void CopyAsync(ulong destination, ulong source, long bytes) =>
        Cu.Check(Cu.cuMemcpyDtoDAsync_v2(destination, source, (ulong)bytes, Stream), "cuMemcpyDtoD");

    public void ZeroAsync(ulong destination, long bytes) =>
        Cu.Check(Cu.cuMemsetD32Async(destination, 0, (ulong)(bytes / 4), Stream), "cuMemsetD32");

    public void Synchronize() => Cu.Check(Cu.cuStreamSynchronize(Stream), "cuStreamSynchronize (a kernel failed)");

    /// <summary>Compiles (or loads from the on-disk cache) the engine's kernels for this device.</summary>
    public void LoadKernels()
    {
        if (module != IntPtr.Zero) return;
        var cubin = CudaKernels.Compile(this, out var note);
        KernelCacheNote = note;
        IntPtr m;
        fixed (byte* p = cubin) Cu.Check(Cu.cuModuleLoadData(&m, p), "cuModuleLoadData");
        module = m;
    }

    public IntPtr Function(string name)
    {
        if (functions.TryGetValue(name, out var f)) return f;
        IntPtr fn;
        Cu.Check(Cu.cuModuleGetFunction(&fn, module, name), $"cuModuleGetFunction({name})");
        // The tiled attention kernel's dynamic shared memory (query vectors, a key and value tile, scores) can pass the
        // default 48 KB a block may take.
        if (name.StartsWith("be_paged_attention", StringComparison.Ordinal))
            Cu.Check(Cu.cuFuncSetAttribute(fn, Cu.FuncAttrMaxDynamicShared, MaxSharedPerBlock - 4096), $"cuFuncSetAttribute({name})");
        return functions[name] = fn;
    }

    /// <summary>What a kernel takes of a multiprocessor: registers per thread, local (spilled) bytes per thread, and how many blocks of <paramref name="block"/> threads fit at once.</summary>
    public string Resources(string kernel, int block, int sharedBytes)
    {
        var fn = Function(kernel);
        int regs, local, blocks;
        Cu.Check(Cu.cuFuncGetAttribute(&regs, Cu.FuncAttrRegisters, fn), "cuFuncGetAttribute");
        Cu.Check(Cu.cuFuncGetAttribute(&local, Cu.FuncAttrLocalBytes, fn), "cuFuncGetAttribute");
        Cu.Check(Cu.cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, fn, block, (nuint)sharedBytes), "cuOccupancyMaxActiveBlocksPerMultiprocessor");
        return $"{regs} registers, {local} B spilled, {blocks} blocks of {block} per SM";
    }

    /// <summary>
    /// Launches with programmatic stream serialization (sm_90 and later; kernels/common.cuh pdl_wait): the kernel may start
    /// while the one before it on the stream finishes. Only for kernels that wait (pdl_wait) before reading what the one
    /// before them wrote. Elsewhere, or with EDGELLM_CUDA_PDL=0, a plain launch.
    /// </summary>
    public void LaunchOverlapped(string kernel, int gridX, int gridY, int block, int sharedBytes, KernelArgs args)
    {
        if (!ProgrammaticLaunch) { Launch(kernel, gridX, gridY, block, sharedBytes, args); return; }
        var attribute = new Cu.LaunchAttribute { Id = Cu.LaunchAttributeProgrammaticStreamSerialization, Value = 1 };
        var config = new Cu.LaunchConfig
        {
            GridX = (uint)gridX, GridY = (uint)gridY, GridZ = 1, BlockX = (uint)block, BlockY = 1, BlockZ = 1,
            SharedBytes = (uint)sharedBytes, Stream = Stream, Attributes = &attribute, AttributeCount = 1,
        };
        Cu.Check(Cu.cuLaunchKernelEx(&config, Function(kernel), args.Pointers, null), $"cuLaunchKernelEx({kernel})");
    }

    /// <summary>Whether <see cref="LaunchOverlapped"/> overlaps launches: compute capability 9.0 or later, unless EDGELLM_CUDA_PDL=0.</summary>
    public bool ProgrammaticLaunch { get; set; }

    public void Launch(string kernel, int gridX, int gridY, int block, int sharedBytes, KernelArgs args, int gridZ = 1)
    {
        Cu.Check(Cu.cuLaunchKernel(Function(kernel), (uint)gridX, (uint)gridY, (uint)gridZ, (uint)block, 1, 1, (uint)sharedBytes,
            Stream, args.Pointers, null), $"cuLaunchKernel({kernel})");
    }

    /// <summary>Records what <paramref name="enqueue"/> launches on the stream as a graph, instantiated once.</summary>
    public CudaGraph Capture(Action enqueue)
    {
        Cu.Check(Cu.cuStreamBeginCapture_v2(Stream, Cu.CaptureModeThreadLocal), "cuStreamBeginCapture");
        IntPtr graph;
        try { enqueue(); }
        finally { Cu.Check(Cu.cuStreamEndCapture(Stream, &graph), "cuStreamEndCapture"); }
        IntPtr exec;
        Cu.Check(Cu.cuGraphInstantiateWithFlags(&exec, graph, 0), "cuGraphInstantiate");
        Cu.Check(Cu.cuGraphDestroy(graph), "cuGraphDestroy");
        return new CudaGraph(this, exec);
    }

    public void Dispose()
    {
        MakeCurrent();
        Synchronize();
        foreach (var p in allocations.Keys.ToList()) Free(p);
        if (module != IntPtr.Zero) Cu.cuModuleUnload(module);
        Cu.cuStreamDestroy_v2(Stream);
        Cu.cuDevicePrimaryCtxRelease_v2(Handle);
    }
}

/// <summary>An instantiated CUDA graph (the decode step), replayed on the device's stream.</summary>
internal sealed class CudaGraph(CudaDevice device, IntPtr exec) : IDisposable
{
    public void Launch() => Cu.Check(Cu.cuGraphLaunch(exec, device.Stream), "cuGraphLaunch");
    public void Dispose() => Cu.cuGraphExecDestroy(exec);
}

/// <summary>
/// A kernel's parameters as the driver wants them: an array of pointers to each value. Values are
/// written into one native buffer; the driver copies them at launch (and at capture), so it is reused.
/// </summary>
internal sealed unsafe class KernelArgs : IDisposable
{
    private readonly byte* data = (byte*)NativeMemory.AlignedAlloc(4096, 16);
    private readonly void** pointers = (void**)NativeMemory.Alloc(64, (nuint)sizeof(void*));
    private int count, offset;

    public void** Pointers => pointers;

    public KernelArgs Reset() { count = 0; offset = 0; return this; }
    public KernelArgs Ptr(ulong v) => Put(v);
    public KernelArgs Int(int v) => Put(v);
    public KernelArgs Long(long v) => Put(v);
    public KernelArgs Float(float v) => Put(v);
    public KernelArgs Struct<T>(in T v) where T : unmanaged => Put(v);

    private KernelArgs Put<T>(T value) where T : unmanaged
    {
        offset = (offset + 15) & ~15;
        if (offset + sizeof(T) > 4096 || count == 64) throw new InvalidOperationException("Too many kernel arguments.");
        *(T*)(data + offset) = value;
        pointers[count++] = data + offset;
        offset += sizeof(T);
        return this;
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(data);
        NativeMemory.Free(pointers);
    }
}
