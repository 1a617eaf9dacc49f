using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Kernels;

/// <summary>Loads 16 consecutive weights of one stored dtype as float32 lanes; kernels are generic over it so the JIT specialises each dtype.</summary>
internal unsafe interface IWeightLoader
{
    static abstract Vector512<float> Load16(byte* row, int index);
    /// <summary>Bytes per stored weight.</summary>
    static abstract int ElementSize { get; }
    static abstract float Load1(byte* row, int index);
}

internal unsafe struct F32Loader : IWeightLoader
{
    public static int ElementSize => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* row, int index) => Vector512.Load((float*)row + index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* row, int index) => ((float*)row)[index];
}

internal unsafe struct BF16Loader : IWeightLoader
{
    public static int ElementSize => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* row, int index) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)row + index)), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* row, int index) => BitConverter.UInt32BitsToSingle((uint)((ushort*)row)[index] << 16);
}

/// <summary>IEEE half → float32, exact for every half (infinities and NaNs included), by the checkpoint reader's own conversion.</summary>
internal unsafe struct F16Loader : IWeightLoader
{
    public static int ElementSize => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* row, int index) =>
        NumericConvert.HalfToFloat(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)row + index)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* row, int index) => (float)BitConverter.UInt16BitsToHalf(((ushort*)row)[index]);
}

/// <summary>
/// IEEE half → float32 for halves known to be finite, in four operations: sign-extend, shift exponent and
/// mantissa into float32 position, clear the sign's copies, rescale by 2^112 (which also normalises
/// subnormals). Exact for every finite half; infinities and NaNs would come out finite, so only tensors
/// checked free of them (<see cref="Checkpoints.TensorView.AllHalvesFinite"/>) use it. Leaving out the
/// rescale (folding 2^112 into x) saves one more operation but feeds subnormal floats to the FMAs, which
/// Intel cores handle in microcode: prefill ran at a third of its speed on a Xeon (docs/performance.md).
/// </summary>
internal unsafe struct F16FiniteLoader : IWeightLoader
{
    public static int ElementSize => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* row, int index) =>
        Avx512F.Multiply(
            Avx512F.And(Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)row + index)), 13),
                Vector512.Create(unchecked((int)0x8FFFFFFF))).AsSingle(),
            Vector512.Create(0x77800000u).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* row, int index) => (float)BitConverter.UInt16BitsToHalf(((ushort*)row)[index]);
}
