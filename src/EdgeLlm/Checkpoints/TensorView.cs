using System.Runtime.InteropServices;

namespace EdgeLlm.Checkpoints;

/// <summary>
/// A tensor as it lies in a memory-mapped file: dtype, shape and a pointer into the mapping. Nothing is
/// copied; the view is valid while the file that owns it is open.
/// </summary>
public sealed unsafe class TensorView
{
    internal TensorView(string name, DType dtype, long[] shape, byte* data, long byteLength, string sourcePath)
    {
        Name = name; DType = dtype; Shape = shape; Data = data; ByteLength = byteLength; SourcePath = sourcePath;
    }

    public string Name { get; }
    public DType DType { get; }
    public long[] Shape { get; }
    public long ByteLength { get; }
    /// <summary>The file the tensor is stored in.</summary>
    public string SourcePath { get; }
    internal byte* Data { get; }

    public long ElementCount => ByteLength / DType.SizeOf();
    public int Rank => Shape.Length;
    public int Rows => Shape.Length == 0 ? 1 : checked((int)Shape[0]);
    /// <summary>Elements per row (product of every dimension after the first).</summary>
    public int RowLength
    {
        get
        {
            long n = 1;
            for (int i = 1; i < Shape.Length; i++) n *= Shape[i];
            return checked((int)n);
        }
    }

    public ReadOnlySpan<byte> Bytes => new(Data, checked((int)ByteLength));

    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged => new(Data, checked((int)(ByteLength / sizeof(T))));

    /// <summary>The raw bytes of row <paramref name="row"/> (first dimension).</summary>
    public ReadOnlySpan<byte> RowBytes(int row)
    {
        long rowBytes = (long)RowLength * DType.SizeOf();
        return new ReadOnlySpan<byte>(Data + row * rowBytes, checked((int)rowBytes));
    }

    /// <summary>Converts row <paramref name="row"/> to float32 into <paramref name="destination"/>.</summary>
    public void RowToFloat(int row, Span<float> destination) => NumericConvert.ToFloat(DType, RowBytes(row), destination);

    /// <summary>Converts elements [start, start+count) of the flattened tensor to float32.</summary>
    public void SliceToFloat(long start, Span<float> destination)
    {
        int size = DType.SizeOf();
        var src = new ReadOnlySpan<byte>(Data + start * size, destination.Length * size);
        NumericConvert.ToFloat(DType, src, destination);
    }

    /// <summary>An explicit float32 copy of the whole tensor; meant for small tensors (norms, biases, test data).</summary>
    public float[] ToFloatArray()
    {
        var result = new float[checked((int)ElementCount)];
        NumericConvert.ToFloat(DType, Bytes, result);
        return result;
    }

    /// <summary>An explicit int64 copy (I64, I32 or I16 storage).</summary>
    public long[] ToInt64Array()
    {
        var result = new long[checked((int)ElementCount)];
        switch (DType)
        {
            case DType.I64: AsSpan<long>().CopyTo(result); break;
            case DType.I32: { var s = AsSpan<int>(); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            case DType.I16: { var s = AsSpan<short>(); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            default: throw new InvalidOperationException($"{SourcePath}: tensor '{Name}' is {DType}, not an integer type.");
        }
        return result;
    }

    private int halvesFinite; // 0 not yet checked, 1 all finite, 2 some infinity or NaN

    /// <summary>
    /// True when no stored value is an infinity or NaN. The F16 matrix kernels take a cheaper widening that is
    /// exact only for finite halves, so each F16 tensor is read through once, on first use, to decide.
    /// </summary>
    internal bool AllHalvesFinite
    {
        get
        {
            if (DType != DType.F16) return true;
            if (halvesFinite == 0) halvesFinite = NumericConvert.HalvesAllFinite(Data, ElementCount) ? 1 : 2;
            return halvesFinite == 1;
        }
    }

    /// <summary>Whether every element is finite; reads the whole tensor (float types only).</summary>
    public bool AllFinite()
    {
        if (DType == DType.F16) return AllHalvesFinite;
        Span<float> chunk = stackalloc float[4096];
        for (long start = 0; start < ElementCount; start += chunk.Length)
        {
            var part = chunk[..(int)Math.Min(chunk.Length, ElementCount - start)];
            SliceToFloat(start, part);
            if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(part)) return false;
        }
        return true;
    }

    public override string ToString() => $"{Name} {DType.ToSafetensorsName()}[{string.Join(", ", Shape)}]";
}
