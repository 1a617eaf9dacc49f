using System.Runtime.InteropServices;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>
/// <see cref="IBackend"/> on one GPU: every architecture description (Llama, Qwen2, Mistral, Phi, QWen) runs on it, for
/// any number of rows of any number of sequences per step. Activations are float32 device buffers, one per scratch
/// role, kept at a fixed address and re-allocated only when a step has more rows than any before; weights stay in
/// their stored dtype; keys and values live in a paged float16 pool (<see cref="PagedKvPool"/>).
/// <para>
/// Weights are resident once: built over a <see cref="CudaEngine"/> (the fused batch-1 decode path), every matrix the
/// engine uploaded is a view into the engine's buffer (<see cref="PlacedMatrix"/>), whatever row order the engine chose;
/// only matrices the engine lacks (none for its families) are uploaded here. Without an engine (Mistral) the backend
/// uploads every matrix itself.
/// </para>
/// Kernels: kernels/backend.cu (row-wise ops, the argmax), kernels/paged_attention.cu (attention over the paged KV cache), kernels/linear.cu's matrix-vector kernel
/// for one row, cuBLAS GEMMs for many, kernels/statistics.cu for calibration's sums.
/// </summary>
public sealed partial class CudaBackend : IBackend
{
    private readonly CudaDevice device;
    private readonly bool ownsDevice;
    private readonly CudaEngine? engine;
    private readonly IntPtr cublas;
    private readonly KernelArgs args = new();
    private readonly Dictionary<string, (ulong Pointer, long Bytes)> scratch = new();
    private readonly List<ulong> owned = new();
    private PagedKvPool? pool;

    /// <summary>KV blocks held by more than one sequence now (shared prompt prefixes; the self-test reads it).</summary>
    internal int SharedKvBlocks => pool?.SharedBlocks ?? 0;
    private ForwardStep step = new([]);
    private bool disposed;

    /// <summary>A backend sharing <paramref name="engine"/>'s device, stream and weight buffers.</summary>
    internal CudaBackend(CudaEngine engine) : this(engine.Device, engine, ownsDevice: false) { }

    /// <summary>A backend of its own on GPU <paramref name="selection"/> (no fused engine).</summary>
    internal static CudaBackend Open(DeviceSelection selection)
    {
        var device = CudaDevice.Open(selection.Ordinal);
        try
        {
            device.LoadKernels();
            return new CudaBackend(device, null, ownsDevice: true);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    private unsafe CudaBackend(CudaDevice device, CudaEngine? engine, bool ownsDevice)
    {
        this.device = device;
        this.engine = engine;
        this.ownsDevice = ownsDevice;
        device.MakeCurrent();
        CudaLibraries.EnsureCublas();
        IntPtr h;
        Cublas.Check(Cublas.cublasCreate_v2(&h), "cublasCreate");
        Cublas.Check(Cublas.cublasSetStream_v2(h, device.Stream), "cublasSetStream");
        cublas = h;
        // A workspace of the backend's own, so that GEMMs captured into a decode graph allocate nothing.
        ulong workspace = device.Alloc(CublasWorkspaceBytes, "cuBLAS workspace");
        owned.Add(workspace);
        Cublas.Check(Cublas.cublasSetWorkspace_v2(h, workspace, CublasWorkspaceBytes), "cublasSetWorkspace");
    }

    private const int CublasWorkspaceBytes = (int)Profiling.CudaMemoryModel.CublasWorkspaceBytes;

    public string Name => $"cuda:{device.Ordinal}";

    internal CudaDevice Device => device;

    /// <summary>Bytes of weight matrices this backend uploaded itself (0 when the engine holds them all).</summary>
    public long OwnMatrixBytes { get; private set; }

    /// <summary>Bytes of weight matrices read through the engine's buffers.</summary>
    public long SharedMatrixBytes { get; private set; }

    /// <summary>Bytes the paged KV pool holds on the device.</summary>
    public long KvPoolBytes => pool?.Bytes ?? 0;

    public DeviceMatrix UploadMatrix(TensorView weight)
    {
        if (weight.Rank != 2) throw new ArgumentException($"'{weight.Name}' is not a matrix.");
        if (weight.DType is not (DType.F16 or DType.BF16 or DType.F32))
            throw new NotSupportedException($"{weight.SourcePath}: tensor '{weight.Name}' is {weight.DType}; the CUDA backend runs F16, BF16 and F32 weights.");
        device.MakeCurrent();
        if (weight.DType == DType.F32) float32Matrices = true;
        if (engine?.Placed(weight.Name) is { } placed && placed.DType == weight.DType && placed.Columns == weight.RowLength
            && placed.DeviceRows.Length == weight.Rows)
        {
            SharedMatrixBytes += weight.ByteLength;
            return CudaMatrix.Over(weight, placed, Owned(placed.DeviceRows, "row map of " + weight.Name));
        }
        ulong p = device.Alloc(weight.ByteLength, weight.Name);
        owned.Add(p);
        unsafe { device.Upload(p, weight.Data, weight.ByteLength); }
        OwnMatrixBytes += weight.ByteLength;
        return CudaMatrix.Own(weight, p);
    }

    public DeviceVector UploadVector(TensorView vector)
    {
        var values = vector.ToFloatArray();
        return new CudaVector(vector.Name, values.Length, Owned<float>(values, vector.Name));
    }

    public RotaryTable CreateRotary(RopeConfig rope)
    {
        var table = new RotaryEmbedding(rope);
        return new CudaRotary(rope, Owned(table.InverseFrequencies, "rotary frequencies"));
    }

    public IKvStorage CreateKvStorage(IReadOnlyList<int> layerWidths, int capacity)
    {
        device.MakeCurrent();
        pool ??= new PagedKvPool(device, layerWidths);
        if (!pool.LayerWidths.SequenceEqual(layerWidths))
            throw new ArgumentException("Every cache of one CUDA backend has the same layer widths (one model per backend).", nameof(layerWidths));
        return new PagedKvStorage(pool, capacity);
    }

    public long ScratchBytes => scratch.Values.Sum(s => s.Bytes);

    public void TrimScratch(long keepBytes)
    {
        if (ScratchBytes <= keepBytes) return;
        device.Synchronize();
        foreach (var s in scratch.Values) device.Free(s.Pointer);
        scratch.Clear();
        stepTable = default;
        DropGraphs();
    }

    public Activation Scratch(string role, int width) => new CudaActivation(role, width, Buffer("a." + role, (long)step.Rows * width * 4));

    /// <summary>A device buffer of at least <paramref name="bytes"/> kept under <paramref name="name"/>; grown by re-allocation.</summary>
    private ulong Buffer(string name, long bytes)
    {
        if (scratch.TryGetValue(name, out var s) && s.Bytes >= bytes) return s.Pointer;
        if (s.Pointer != 0) { device.Synchronize(); device.Free(s.Pointer); }
        DropGraphs(); // they hold the old addresses
        long size = Math.Max(256, bytes + bytes / 4);
        ulong p = device.Alloc(size, name);
        scratch[name] = (p, size);
        return p;
    }

    private ulong Owned<T>(ReadOnlySpan<T> values, string what) where T : unmanaged
    {
        device.MakeCurrent();
        ulong p = device.Alloc((long)values.Length * Marshal.SizeOf<T>(), what);
        owned.Add(p);
        device.Upload(p, values);
        return p;
    }

    private ulong Owned(int[] values, string what) => Owned<int>(values, what);

    /// <summary>
    /// When set, every kernel launch and GEMM is timed on the device (<see cref="CudaKernelTimer"/>) and, when the property
    /// is set again, its time is added here by kernel: where a step's device time goes.
    /// </summary>
    internal Dictionary<string, (double Ms, int Count)>? Profile
    {
        get => profile;
        set
        {
            if (timer != null && profile != null)
                foreach (var (label, (ms, count)) in timer.Collect())
                {
                    var (total, n) = profile.GetValueOrDefault(label);
                    profile[label] = (total + ms, n + count);
                }
            timer?.Dispose();
            profile = value;
            timer = value is null ? null : new CudaKernelTimer(device);
        }
    }

    private Dictionary<string, (double Ms, int Count)>? profile;
    private CudaKernelTimer? timer;

    private void Launch(string kernel, int gridX, int gridY, int block, int sharedBytes, KernelArgs kernelArgs, int gridZ = 1)
    {
        var started = BeginTiming();
        device.Launch(kernel, gridX, gridY, block, sharedBytes, kernelArgs, gridZ);
        EndTiming(kernel, started);
    }

    private IntPtr BeginTiming() => timer?.Start() ?? IntPtr.Zero;

    private void EndTiming(string what, IntPtr started) => timer?.Stop(what, started);

    public void CopyToHost(Activation x, Span<float> destination) =>
        device.Download(destination[..(step.Rows * x.Width)], Ptr(x));

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        device.MakeCurrent();
        device.Synchronize();
        DropGraphs();
        foreach (var s in scratch.Values) device.Free(s.Pointer);
        foreach (var p in owned) device.Free(p);
        FreeAccumulators();
        pool?.Dispose();
        if (cublas != IntPtr.Zero) Cublas.cublasDestroy_v2(cublas);
        args.Dispose();
        if (ownsDevice) device.Dispose();
    }

    private static ulong Ptr(Activation a) => ((CudaActivation)a).Pointer;
    private static CudaMatrix Dev(DeviceMatrix m) => (CudaMatrix)m;
    private static ulong Ptr(DeviceVector? v) => v is null ? 0 : ((CudaVector)v).Pointer;

    private static int Blocks(long work, int threads = 256) => (int)Math.Clamp((work + threads - 1) / threads, 1, 65535);

    private sealed class CudaVector(string name, int length, ulong pointer) : DeviceVector(name, length)
    {
        public ulong Pointer { get; } = pointer;
    }

    private sealed class CudaRotary(RopeConfig rope, ulong inverseFrequencies) : RotaryTable(rope)
    {
        public ulong InverseFrequencies { get; } = inverseFrequencies;
    }

    private sealed class CudaActivation(string role, int width, ulong pointer) : Activation(role, width)
    {
        public ulong Pointer { get; } = pointer;
    }
}

/// <summary>
/// A weight matrix on the device: <see cref="DeviceMatrix.Rows"/> rows of <see cref="DeviceMatrix.Columns"/> values in
/// <see cref="Buffer"/>, checkpoint row j at device row <c>DeviceRow(j)</c>. <see cref="Lo"/>..<see cref="Hi"/> is the
/// range of device rows that holds it; when it is plain (device row = Lo + Stride·j) a GEMM writes its output directly,
/// otherwise the covering range is computed and its columns gathered through <see cref="Map"/> (device ints).
/// </summary>
internal sealed class CudaMatrix : DeviceMatrix
{
    private CudaMatrix(TensorView view, ulong buffer, int lo, int hi, int stride, bool plain, ulong map)
        : base(view.Name, view.Rows, view.RowLength, view.DType)
    {
        Buffer = buffer; Lo = lo; Hi = hi; Stride = stride; Plain = plain; Map = map;
    }

    public ulong Buffer { get; }
    public int Lo { get; }
    public int Hi { get; }
    public int Stride { get; }
    public bool Plain { get; }
    public ulong Map { get; }
    public long RowBytes => (long)Columns * DType.SizeOf();

    public static CudaMatrix Own(TensorView view, ulong pointer) => new(view, pointer, 0, view.Rows - 1, 1, true, 0);

    public static CudaMatrix Over(TensorView view, PlacedMatrix placed, ulong map)
    {
        var rows = placed.DeviceRows;
        int lo = rows.Min(), hi = rows.Max();
        bool contiguous = rows.Select((r, j) => r == lo + j).All(b => b);
        bool strided = !contiguous && rows.Select((r, j) => r == lo + 2 * j).All(b => b);
        return new(view, placed.Buffer, lo, hi, strided ? 2 : 1, contiguous || strided, map);
    }
}
