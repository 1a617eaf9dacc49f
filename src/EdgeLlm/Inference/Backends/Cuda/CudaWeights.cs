using System.Runtime.InteropServices;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>How a block combines attention and MLP.</summary>
internal enum BlockStyle
{
    /// <summary>Llama, Qwen2, QWen: x += attn(norm1(x)); x += mlp(norm2(x)); RMSNorm; SwiGLU.</summary>
    Sequential,
    /// <summary>Phi: h = LayerNorm(x); x += attn(h) + mlp(h); gelu_new.</summary>
    Parallel,
}

/// <summary>
/// One decoder layer as it lies on the device. Matrices keep the checkpoint's dtype; rows are regrouped
/// so that one kernel reads what one input feeds: <see cref="Fused"/> is [q | k | v] (Phi: [q | k | v | fc1])
/// with q and k rows permuted into rotary pairs, <see cref="GateUp"/> interleaves gate and up rows.
/// Vectors (norms, biases) are float32; 0 means absent.
/// </summary>
internal sealed record CudaLayer(
    int Heads, int KvHeads, int Intermediate,
    ulong Fused, int FusedRows, ulong FusedBias,
    ulong Out, ulong OutBias,
    ulong GateUp, ulong GateUpBias,
    ulong Down, ulong DownBias,
    ulong Norm1, ulong Norm1Bias, ulong Norm2)
{
    /// <summary>LayerNorm folded into the decode products (Phi): W·γ per fused row, and the fused bias + W·β; 0 otherwise.</summary>
    public ulong Norm1Wg { get; init; }
    public ulong FoldedBias { get; init; }

    public int QRows(int headDim) => Heads * headDim;
    public int KvWidth(int headDim) => KvHeads * headDim;
}

/// <summary>
/// A checkpoint matrix as the engine laid it on the device: rows of <paramref name="Columns"/> values in the buffer at
/// <paramref name="Buffer"/>; source row j is device row <paramref name="DeviceRows"/>[j] (q/k rows permuted into rotary
/// pairs, gate/up interleaved, or the identity). <see cref="CudaBackend"/> reads the engine's weights through these.
/// </summary>
internal sealed record PlacedMatrix(ulong Buffer, int Columns, DType DType, int[] DeviceRows);

/// <summary>
/// Reads a checkpoint's tensors for the device: names per architecture (as the CPU engine's files spell
/// them), the row regrouping described at <see cref="CudaLayer"/>, one upload per matrix through a host
/// staging buffer (the mapped file is never copied whole, and no float32 copy of a matrix exists).
/// </summary>
internal sealed unsafe class CudaWeights
{
    private readonly Checkpoint checkpoint;
    private readonly CudaDevice device;
    private byte* staging;
    private long stagingBytes;

    public CudaWeights(Checkpoint checkpoint, CudaDevice device) { this.checkpoint = checkpoint; this.device = device; }

    public DType DType { get; private set; }
    public long DeviceWeightBytes { get; private set; }

    /// <summary>Bytes the device copy of the weights will take, before anything is allocated.</summary>
    /// <remarks>Matrices keep their stored size; vectors (norms, biases) become float32.</remarks>
    public static long PlannedBytes(Checkpoint checkpoint) =>
        checkpoint.Tensors.Values.Sum(t => t.Rank == 1 ? t.ElementCount * 4 : t.ByteLength);

    public DType CheckDType(IEnumerable<TensorView> matrices)
    {
        var types = matrices.Select(m => m.DType).Distinct().ToList();
        if (types.Count != 1 || types[0] is not (DType.F16 or DType.BF16 or DType.F32))
            throw new InvalidOperationException($"{checkpoint.Directory}: the CUDA engine runs one weight dtype (F16, BF16 or F32); this checkpoint has {string.Join(", ", types)}.");
        return DType = types[0];
    }

    /// <summary>Uploads the rows (view, source row) in order as one [rows, k] matrix.</summary>
    public ulong Matrix(string what, int k, IReadOnlyList<(TensorView View, int Row)> rows)
    {
        long rowBytes = (long)k * DType.SizeOf(), total = rowBytes * rows.Count;
        if (total > stagingBytes)
        {
            if (staging != null) NativeMemory.Free(staging);
            staging = (byte*)NativeMemory.Alloc((nuint)total);
            stagingBytes = total;
        }
        for (int i = 0; i < rows.Count; i++)
        {
            var (view, row) = rows[i];
            if (view.RowLength != k || view.DType != DType)
                throw new InvalidOperationException($"{view.SourcePath}: tensor '{view.Name}' is not [*, {k}] {DType} as {what} needs.");
            Buffer.MemoryCopy(view.Data + row * rowBytes, staging + i * rowBytes, rowBytes, rowBytes);
        }
        ulong p = device.Alloc(total, what);
        device.Upload(p, staging, total);
        DeviceWeightBytes += total;
        foreach (var group in Enumerable.Range(0, rows.Count).GroupBy(i => rows[i].View.Name))
        {
            var view = rows[group.First()].View;
            var deviceRows = new int[view.Rows];
            Array.Fill(deviceRows, -1);
            foreach (int i in group) deviceRows[rows[i].Row] = i;
            if (deviceRows.All(r => r >= 0)) Placed[view.Name] = new PlacedMatrix(p, k, DType, deviceRows);
        }
        return p;
    }

    /// <summary>Where each checkpoint matrix uploaded whole went: its device buffer and the device row of each of its rows.</summary>
    public Dictionary<string, PlacedMatrix> Placed { get; } = new();

    public ulong Whole(TensorView view) =>
        Matrix(view.Name, view.RowLength, Enumerable.Range(0, view.Rows).Select(r => (view, r)).ToList());

    public ulong Vector(float[]? values, string what)
    {
        if (values == null) return 0;
        ulong p = device.Alloc(values.Length * 4L, what);
        device.Upload<float>(p, values);
        return p;
    }

    public void ReleaseStaging()
    {
        if (staging != null) NativeMemory.Free(staging);
        staging = null;
        stagingBytes = 0;
    }

    /// <summary>
    /// Device row p of a head's q or k rows reads source channel RotarySource(p): channel pairs (i, i + rot/2)
    /// become adjacent rows (2i, 2i + 1); channels past the rotary part keep their place. Mirrors
    /// rotary_source in kernels/common.cuh.
    /// </summary>
    public static int RotarySource(int c, int rot) => c >= rot ? c : (c % 2 == 0 ? c / 2 : c / 2 + rot / 2);

    public static IEnumerable<(TensorView, int)> RotaryRows(TensorView view, int firstRow, int heads, int headDim, int rot)
    {
        for (int h = 0; h < heads; h++)
            for (int c = 0; c < headDim; c++)
                yield return (view, firstRow + h * headDim + RotarySource(c, rot));
    }

    public static IEnumerable<(TensorView, int)> Rows(TensorView view, int firstRow, int count)
    {
        for (int r = 0; r < count; r++) yield return (view, firstRow + r);
    }

    public static IEnumerable<(TensorView, int)> Interleaved(TensorView gate, TensorView up)
    {
        for (int r = 0; r < gate.Rows; r++) { yield return (gate, r); yield return (up, r); }
    }

    public static float[] RotaryVector(float[] bias, int first, int heads, int headDim, int rot)
    {
        var result = new float[heads * headDim];
        for (int h = 0; h < heads; h++)
            for (int c = 0; c < headDim; c++)
                result[h * headDim + c] = bias[first + h * headDim + RotarySource(c, rot)];
        return result;
    }

    public static float[] InterleavedVector(float[] gate, float[] up)
    {
        var result = new float[gate.Length * 2];
        for (int i = 0; i < gate.Length; i++) { result[2 * i] = gate[i]; result[2 * i + 1] = up[i]; }
        return result;
    }
}
