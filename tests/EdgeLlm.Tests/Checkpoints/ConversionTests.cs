using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using EdgeLlm.Checkpoints;
using static EdgeLlm.Tests.Checkpoints.TestFiles;

namespace EdgeLlm.Tests.Checkpoints;

/// <summary>dtype conversion on save: F32→F16 as System.Half rounds, F32→BF16 round-to-nearest-even.</summary>
public class ConversionTests
{
    [Theory]
    [InlineData("llama-float32")]
    [InlineData("phi-float32")]
    public void Float32ToFloat16MatchesSystemHalf(string fixture)
    {
        using var dir = new TempDir();
        using var source = Checkpoint.Open(HfTiny(fixture));
        CheckpointWriter.SaveAs(source, dir.Directory, DType.F16);
        using var half = Checkpoint.Open(dir.Directory);
        Assert.Equal("float16", ReadConfig(dir.Directory)["dtype"]!.GetValue<string>());
        Assert.Equal(DType.F16, half.Config.DeclaredDType);
        foreach (var (name, t) in source.Tensors)
        {
            var h = half[name];
            Assert.Equal(DType.F16, h.DType);
            Assert.Equal(t.Shape, h.Shape);
            var want = t.ToFloatArray().Select(f => BitConverter.HalfToUInt16Bits((Half)f)).ToArray();
            Assert.True(want.AsSpan().SequenceEqual(h.AsSpan<ushort>()), $"{name}: F16 bits differ from (Half)float");
        }

        // and widening back to F32 is exact: every value is (float)(Half)original
        using var dir2 = new TempDir();
        CheckpointWriter.SaveAs(half, dir2.Directory, DType.F32);
        using var back = Checkpoint.Open(dir2.Directory);
        foreach (var (name, t) in source.Tensors)
        {
            var want = t.ToFloatArray().Select(f => (float)(Half)f).ToArray();
            Assert.Equal(want, back[name].ToFloatArray());
        }
    }

    /// <summary>An independent round-to-nearest-even: pick the nearer of the two bfloat16 neighbours, ties to even.</summary>
    private static ushort ReferenceBFloat16(float f)
    {
        if (float.IsNaN(f)) return 0; // checked separately
        uint bits = BitConverter.SingleToUInt32Bits(f);
        uint lo = bits & 0xFFFF0000u, hi = lo + 0x10000u;
        if ((bits & 0xFFFF) == 0) return (ushort)(lo >> 16);
        static double Value(uint b) => (b & 0x7F800000u) == 0x7F800000u
            ? Math.CopySign(Math.Pow(2, 128), BitConverter.UInt32BitsToSingle(b)) // one ulp past the largest float
            : BitConverter.UInt32BitsToSingle(b);
        double x = f, dl = Math.Abs(x - Value(lo)), dh = Math.Abs(Value(hi) - x);
        if (dl < dh) return (ushort)(lo >> 16);
        if (dh < dl) return (ushort)(hi >> 16);
        return ((lo >> 16) & 1) == 0 ? (ushort)(lo >> 16) : (ushort)(hi >> 16);
    }

    private static float Widen(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    [Theory]
    [InlineData(1.00390625f, 1.0f)]          // 1 + 2^-8: halfway, 1.0 is even
    [InlineData(1.01171875f, 1.015625f)]     // 1 + 3·2^-8: halfway, rounds up to the even 1.015625
    [InlineData(1.0039064f, 1.0078125f)]     // just above the halfway point (1.00390636…)
    [InlineData(1.0078125f, 1.0078125f)]     // exact
    [InlineData(-1.00390625f, -1.0f)]
    [InlineData(-1.01171875f, -1.015625f)]
    [InlineData(float.MaxValue, float.PositiveInfinity)] // above the largest bfloat16 + half an ulp
    [InlineData(float.PositiveInfinity, float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity, float.NegativeInfinity)]
    [InlineData(0f, 0f)]
    public void BFloat16RoundsToNearestEven(float input, float expected)
    {
        var b = NumericConvert.FloatToBFloat16(input);
        Assert.Equal(expected, Widen(b));
        Assert.Equal(ReferenceBFloat16(input), b);
    }

    [Theory]
    [InlineData(0x00012345u, 0x0001)] // subnormal, rounds down
    [InlineData(0x00018000u, 0x0002)] // subnormal tie, odd → up
    [InlineData(0x00028000u, 0x0002)] // subnormal tie, even → stays
    [InlineData(0x0000FFFFu, 0x0001)] // smallest subnormals round up into the first bfloat16 subnormal
    [InlineData(0x00007FFFu, 0x0000)] // … or down to zero
    [InlineData(0x807F8000u, 0x8080)] // negative subnormal tie rounding up into the smallest normal
    [InlineData(0x80000000u, 0x8000)] // −0 keeps its sign
    [InlineData(0x7F7F8000u, 0x7F80)] // tie at the top rounds to +Inf (odd mantissa)
    public void BFloat16SubnormalsAndEdges(uint inputBits, int expectedBits)
    {
        var f = BitConverter.UInt32BitsToSingle(inputBits);
        Assert.Equal((ushort)expectedBits, NumericConvert.FloatToBFloat16(f));
        Assert.Equal(ReferenceBFloat16(f), NumericConvert.FloatToBFloat16(f));
    }

    [Theory]
    [InlineData(0x7FC00000u)] // quiet NaN
    [InlineData(0x7F800001u)] // signalling NaN whose payload is only in the low half: must not become Inf
    [InlineData(0xFF810000u)] // negative NaN
    public void BFloat16KeepsNaN(uint bits)
    {
        var b = NumericConvert.FloatToBFloat16(BitConverter.UInt32BitsToSingle(bits));
        Assert.True(float.IsNaN(Widen(b)), $"0x{bits:X8} became 0x{b:X4}");
        Assert.Equal(bits >> 31, (uint)b >> 15);
    }

    /// <summary>The same rounding through the writer, on a sweep of values and on a whole checkpoint.</summary>
    [Fact]
    public void Float32ToBFloat16ThroughWriterMatchesReference()
    {
        using var dir = new TempDir();
        var rng = new Random(1234);
        var values = new float[20000];
        for (int i = 0; i < values.Length; i++)
            values[i] = i % 4 == 0
                ? BitConverter.UInt32BitsToSingle((uint)rng.Next() & 0x7F7FFFFFu | ((uint)rng.Next(2) << 31))
                : (float)(rng.NextDouble() * 2 - 1) * MathF.Pow(2, rng.Next(-140, 60));
        values[0] = 1.00390625f; values[1] = 1.01171875f; values[2] = float.NaN; values[3] = float.NegativeInfinity;
        var path = dir.Path("bf16.safetensors");
        SafeTensorsWriter.Write(path, [TensorData.FromFloats("v", [values.Length], values, DType.BF16)]);
        using var f = SafeTensorsFile.Open(path);
        var stored = f["v"].AsSpan<ushort>();
        for (int i = 0; i < values.Length; i++)
        {
            if (float.IsNaN(values[i])) Assert.True(float.IsNaN(Widen(stored[i])));
            else Assert.True(ReferenceBFloat16(values[i]) == stored[i], $"value {values[i]:R} (0x{BitConverter.SingleToUInt32Bits(values[i]):X8}) → 0x{stored[i]:X4}");
        }
        Assert.Equal(1.0f, Widen(stored[0]));
        Assert.Equal(1.015625f, Widen(stored[1]));

        using var source = Checkpoint.Open(HfTiny("qwen2-float32"));
        using var dir2 = new TempDir();
        CheckpointWriter.SaveAs(source, dir2.Directory, DType.BF16);
        using var bf = Checkpoint.Open(dir2.Directory);
        foreach (var (name, t) in source.Tensors)
        {
            var want = t.ToFloatArray().Select(ReferenceBFloat16).ToArray();
            Assert.True(want.AsSpan().SequenceEqual(bf[name].AsSpan<ushort>()), $"{name}: BF16 bits differ");
        }
    }

    [Fact]
    public void Float16WideningHandlesSubnormalsInfAndNaN()
    {
        // every one of the 65536 half bit patterns, through the vectorised widening path
        var all = Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();
        var floats = new float[all.Length];
        NumericConvert.HalfToFloat(all, floats);
        for (int i = 0; i < all.Length; i++)
        {
            float want = (float)BitConverter.UInt16BitsToHalf(all[i]);
            if (float.IsNaN(want)) Assert.True(float.IsNaN(floats[i]), $"0x{i:X4}");
            else Assert.True(BitConverter.SingleToUInt32Bits(want) == BitConverter.SingleToUInt32Bits(floats[i]), $"0x{i:X4}: {floats[i]} vs {want}");
        }
    }

    /// <summary>Conversion of every rank: scalars, 1-D vectors (norm weights), empty and 3-D tensors.</summary>
    [Fact]
    public void ConversionHandlesEveryRank()
    {
        using var dir = new TempDir();
        var shapes = new long[][] { [], [5], [0, 4], [2, 3, 4] };
        var src = dir.Path("src.safetensors");
        SafeTensorsWriter.Write(src, shapes.Select((sh, i) =>
        {
            int n = (int)sh.Aggregate(1L, (p, d) => p * d);
            return TensorData.FromFloats($"t{i}", sh, Enumerable.Range(0, n).Select(v => v * 0.3f + 1).ToArray(), DType.F32);
        }).ToList());
        using var f = SafeTensorsFile.Open(src);
        Assert.Equal((1, 1), (f["t0"].Rows, f["t0"].RowLength));
        Assert.Equal((5, 1), (f["t1"].Rows, f["t1"].RowLength));
        Assert.Equal((0, 4), (f["t2"].Rows, f["t2"].RowLength));
        Assert.Equal((2, 12), (f["t3"].Rows, f["t3"].RowLength));
        foreach (var dtype in new[] { DType.F16, DType.BF16 })
        {
            var dst = dir.Path($"{dtype}.safetensors");
            SafeTensorsWriter.Write(dst, f.Tensors.Values.Select(v => TensorData.FromView(v, dtype)).ToList());
            using var g = SafeTensorsFile.Open(dst);
            foreach (var (name, v) in f.Tensors)
            {
                Assert.Equal(v.Shape, g[name].Shape);
                Assert.Equal(dtype, g[name].DType);
                var want = v.ToFloatArray().Select(x => dtype == DType.F16 ? (float)(Half)x : Widen(ReferenceBFloat16(x))).ToArray();
                Assert.Equal(want, g[name].ToFloatArray());
            }
        }
    }
}
