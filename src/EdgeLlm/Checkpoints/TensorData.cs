using System.Runtime.InteropServices;

namespace EdgeLlm.Checkpoints;

/// <summary>A tensor about to be written: its header facts and a way to stream its bytes.</summary>
public sealed class TensorData
{
    private readonly Action<Stream> writeTo;

    private TensorData(string name, DType dtype, long[] shape, Action<Stream> writeTo)
    {
        Name = name; DType = dtype; Shape = shape; this.writeTo = writeTo;
        long n = 1; foreach (var d in shape) n = checked(n * d);
        ByteLength = n * dtype.SizeOf();
    }

    public string Name { get; }
    public DType DType { get; }
    public long[] Shape { get; }
    public long ByteLength { get; }

    public void WriteTo(Stream stream) => writeTo(stream);

    /// <summary>The view's bytes as stored, or converted row by row to <paramref name="dtype"/> (float types only).</summary>
    public static TensorData FromView(TensorView view, DType? dtype = null, string? name = null)
    {
        var target = dtype ?? view.DType;
        if (target == view.DType)
            return new(name ?? view.Name, target, view.Shape, s => CopyRaw(view, s));
        if (!view.DType.IsFloat() || !target.IsFloat())
            throw new ArgumentException($"Cannot convert tensor '{view.Name}' from {view.DType} to {target}.");
        return new(name ?? view.Name, target, view.Shape, s => ConvertRows(view, target, s));
    }

    /// <summary>Float32 values written as <paramref name="dtype"/>.</summary>
    public static TensorData FromFloats(string name, long[] shape, float[] values, DType dtype)
    {
        long n = 1; foreach (var d in shape) n *= d;
        if (n != values.Length) throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", shape)}] does not hold {values.Length} values.");
        return new(name, dtype, shape, s =>
        {
            const int chunk = 1 << 16;
            var buffer = new byte[chunk * dtype.SizeOf()];
            for (int i = 0; i < values.Length; i += chunk)
            {
                int count = Math.Min(chunk, values.Length - i);
                NumericConvert.FromFloat(dtype, values.AsSpan(i, count), buffer.AsSpan(0, count * dtype.SizeOf()));
                s.Write(buffer, 0, count * dtype.SizeOf());
            }
        });
    }

    /// <summary>Values produced chunk by chunk by <paramref name="fill"/>(first element index, chunk), written as <paramref name="dtype"/>.</summary>
    public static TensorData Generate(string name, long[] shape, DType dtype, Action<long, Span<float>> fill) =>
        new(name, dtype, shape, s =>
        {
            long total = shape.Aggregate(1L, (a, b) => a * b);
            const int chunk = 1 << 16;
            var values = new float[chunk];
            var bytes = new byte[chunk * dtype.SizeOf()];
            for (long i = 0; i < total; i += chunk)
            {
                int count = (int)Math.Min(chunk, total - i);
                fill(i, values.AsSpan(0, count));
                NumericConvert.FromFloat(dtype, values.AsSpan(0, count), bytes.AsSpan(0, count * dtype.SizeOf()));
                s.Write(bytes, 0, count * dtype.SizeOf());
            }
        });

    /// <summary>Raw bytes already in <paramref name="dtype"/>.</summary>
    public static TensorData FromBytes(string name, long[] shape, DType dtype, byte[] bytes)
    {
        var t = new TensorData(name, dtype, shape, s => s.Write(bytes));
        if (t.ByteLength != bytes.Length) throw new ArgumentException($"Tensor '{name}': {bytes.Length} bytes for {t.ByteLength} expected.");
        return t;
    }

    public static TensorData FromInt64(string name, long[] shape, long[] values) =>
        FromBytes(name, shape, DType.I64, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    private static void CopyRaw(TensorView view, Stream s)
    {
        const int chunk = 1 << 22;
        for (long offset = 0; offset < view.ByteLength; offset += chunk)
        {
            int count = (int)Math.Min(chunk, view.ByteLength - offset);
            unsafe { s.Write(new ReadOnlySpan<byte>(view.Data + offset, count)); }
        }
    }

    /// <summary>Converts the flattened tensor a chunk at a time, whatever its rank (1-D norms, scalars, empty tensors).</summary>
    private static void ConvertRows(TensorView view, DType target, Stream s)
    {
        const int chunk = 1 << 16;
        long total = view.ElementCount;
        var floats = new float[(int)Math.Min(chunk, total)];
        var bytes = new byte[floats.Length * target.SizeOf()];
        for (long start = 0; start < total; start += chunk)
        {
            int count = (int)Math.Min(chunk, total - start);
            view.SliceToFloat(start, floats.AsSpan(0, count));
            NumericConvert.FromFloat(target, floats.AsSpan(0, count), bytes.AsSpan(0, count * target.SizeOf()));
            s.Write(bytes, 0, count * target.SizeOf());
        }
    }
}
