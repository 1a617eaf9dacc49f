using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeLlm.Checkpoints;

/// <summary>Conversions between the stored 16-bit formats and float32, vectorised.</summary>
public static class NumericConvert
{
    public static void ToFloat(DType type, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (type)
        {
            case DType.F32: MemoryMarshal.Cast<byte, float>(source).CopyTo(destination); break;
            case DType.F16: HalfToFloat(MemoryMarshal.Cast<byte, ushort>(source), destination); break;
            case DType.BF16: BFloat16ToFloat(MemoryMarshal.Cast<byte, ushort>(source), destination); break;
            case DType.F64:
                {
                    var d = MemoryMarshal.Cast<byte, double>(source);
                    for (int i = 0; i < d.Length; i++) destination[i] = (float)d[i];
                    break;
                }
            default: throw new NotSupportedException($"Cannot convert {type} to float32.");
        }
    }

    public static void FromFloat(DType type, ReadOnlySpan<float> source, Span<byte> destination)
    {
        switch (type)
        {
            case DType.F32: MemoryMarshal.AsBytes(source).CopyTo(destination); break;
            case DType.F16: TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(destination)); break;
            case DType.BF16:
                {
                    var dst = MemoryMarshal.Cast<byte, ushort>(destination);
                    for (int i = 0; i < source.Length; i++) dst[i] = FloatToBFloat16(source[i]);
                    break;
                }
            default: throw new NotSupportedException($"Cannot convert float32 to {type}.");
        }
    }

    /// <summary>bfloat16 is the top half of a float32: widening is a 16-bit shift.</summary>
    public static void BFloat16ToFloat(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("Destination too short.");
        var dst = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= source.Length - 32; i += 32)
            {
                var v = Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)i);
                var (lo, hi) = Vector512.Widen(v);
                (lo << 16).StoreUnsafe(ref MemoryMarshal.GetReference(dst), (nuint)i);
                (hi << 16).StoreUnsafe(ref MemoryMarshal.GetReference(dst), (nuint)(i + 16));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= source.Length - 16; i += 16)
            {
                var v = Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)i);
                var (lo, hi) = Vector256.Widen(v);
                (lo << 16).StoreUnsafe(ref MemoryMarshal.GetReference(dst), (nuint)i);
                (hi << 16).StoreUnsafe(ref MemoryMarshal.GetReference(dst), (nuint)(i + 8));
            }
        }
        for (; i < source.Length; i++) dst[i] = (uint)source[i] << 16;
    }

    /// <summary>
    /// IEEE half to float32 without a lookup table: shift exponent and mantissa into place and rescale by
    /// 2^112 with one float multiply, which also handles subnormals; infinities and NaNs are patched.
    /// </summary>
    public static void HalfToFloat(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("Destination too short.");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            ref ushort s = ref MemoryMarshal.GetReference(source);
            ref float d = ref MemoryMarshal.GetReference(destination);
            for (; i <= source.Length - 32; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref s, (nuint)i));
                HalfToFloat(lo).StoreUnsafe(ref d, (nuint)i);
                HalfToFloat(hi).StoreUnsafe(ref d, (nuint)(i + 16));
            }
        }
        if (i < source.Length)
            TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<ushort, Half>(source[i..]), destination[i..]);
    }

    /// <summary>Whether none of <paramref name="count"/> halves at <paramref name="data"/> is an infinity or NaN (exponent bits all set); large tensors are scanned in parallel.</summary>
    internal static unsafe bool HalvesAllFinite(byte* data, long count)
    {
        const int chunk = 1 << 22;
        long chunks = (count + chunk - 1) / chunk;
        int found = 0;
        Parallel.For(0, chunks, (c, state) =>
        {
            var span = new ReadOnlySpan<ushort>((ushort*)data + c * chunk, (int)Math.Min(chunk, count - c * chunk));
            if (!HalvesAllFinite(span)) { Interlocked.Exchange(ref found, 1); state.Stop(); }
        });
        return found == 0;
    }

    private static bool HalvesAllFinite(ReadOnlySpan<ushort> halves)
    {
        var exponent = Vector512.Create((ushort)0x7C00);
        int i = 0;
        ref ushort s = ref MemoryMarshal.GetReference(halves);
        for (; i <= halves.Length - 32; i += 32)
            if (Vector512.EqualsAny(Vector512.LoadUnsafe(ref s, (nuint)i) & exponent, exponent)) return false;
        for (; i < halves.Length; i++)
            if ((halves[i] & 0x7C00) == 0x7C00) return false;
        return true;
    }

    /// <summary>16 halves, zero-extended to 32-bit lanes, as float32: see <see cref="HalfToFloat(ReadOnlySpan{ushort}, Span{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> HalfToFloat(Vector512<uint> h)
    {
        var shifted = (h << 13) & Vector512.Create(0x7FFFu << 13);
        var value = shifted.AsSingle() * Vector512.Create(0x77800000u).AsSingle(); // 2^112
        var isInfNan = Vector512.GreaterThanOrEqual(shifted, Vector512.Create(0x7C00u << 13));
        var bits = Vector512.ConditionalSelect(isInfNan, value.AsUInt32() | Vector512.Create(0x7F800000u), value.AsUInt32());
        return (bits | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>Round-to-nearest-even float32 → bfloat16, as PyTorch does; NaN stays NaN.</summary>
    public static ushort FloatToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
