using System.Text;
using System.Text.Json;
using EdgeLlm.Checkpoints;
using static EdgeLlm.Tests.Checkpoints.TestFiles;

namespace EdgeLlm.Tests.Checkpoints;

/// <summary>The written header, parsed independently: JSON padded with spaces to 8, offsets contiguous from 0.</summary>
public class HeaderTests
{
    /// <summary>Parses a file as the format describes it, without the library's reader.</summary>
    internal static void AssertWellFormed(string path, IReadOnlyDictionary<string, string>? expectMetadata = null)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length >= 8);
        ulong n = BitConverter.ToUInt64(bytes, 0);
        Assert.True(n % 8 == 0, $"header length {n} is not a multiple of 8");
        Assert.True(8 + (long)n <= bytes.Length);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        var json = header.TrimEnd(' ');
        Assert.True(header.Length - json.Length < 8, "more padding than needed");
        Assert.StartsWith("{", json);
        Assert.EndsWith("}", json);

        using var doc = JsonDocument.Parse(json);
        long dataLength = bytes.Length - 8 - (long)n;
        long expectedBegin = 0;
        int tensors = 0;
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                Assert.Equal(0, tensors); // written first, as the reference writer does
                if (expectMetadata != null)
                    Assert.Equal(expectMetadata.OrderBy(kv => kv.Key),
                        entry.Value.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetString()!)).OrderBy(kv => kv.Key));
                continue;
            }
            tensors++;
            var dtype = entry.Value.GetProperty("dtype").GetString()!;
            Assert.True(DTypes.TryParse(dtype, out var dt), dtype);
            long elements = entry.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (p, d) => p * d.GetInt64());
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
            Assert.Equal(2, offsets.Length);
            Assert.Equal(expectedBegin, offsets[0]);
            Assert.Equal(elements * dt.SizeOf(), offsets[1] - offsets[0]);
            expectedBegin = offsets[1];
        }
        Assert.Equal(dataLength, expectedBegin);
    }

    /// <summary>Names of every length from 1 to 16 make every amount of padding (0–7) occur.</summary>
    [Fact]
    public void HeaderIsPaddedJsonWithContiguousOffsets()
    {
        using var dir = new TempDir();
        var paddings = new HashSet<int>();
        for (int len = 1; len <= 16; len++)
        {
            var path = dir.Path($"t{len}.safetensors");
            var name = new string('x', len);
            var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "é\"quoted\"" };
            SafeTensorsWriter.Write(path, [
                TensorData.FromFloats(name, [3], [1, 2, 3], DType.F32),
                TensorData.FromFloats("b", [2, 3], [1, 2, 3, 4, 5, 6], DType.BF16),
                TensorData.FromInt64("ids", [1, 2], [7, 8]),
                TensorData.FromFloats("scalar", [], [42], DType.F16),
                TensorData.FromFloats("empty", [0, 4], [], DType.F32),
            ], metadata);
            AssertWellFormed(path, metadata);
            var bytes = File.ReadAllBytes(path);
            var header = Encoding.UTF8.GetString(bytes, 8, (int)BitConverter.ToUInt64(bytes, 0));
            paddings.Add(header.Length - header.TrimEnd(' ').Length);

            using var f = SafeTensorsFile.Open(path);
            Assert.Equal([1f, 2f, 3f], f[name].ToFloatArray());
            Assert.Equal([7L, 8L], f["ids"].ToInt64Array());
            Assert.Equal([42f], f["scalar"].ToFloatArray());
            Assert.Empty(f["scalar"].Shape);
            Assert.Equal(0, f["empty"].ByteLength);
            Assert.Equal(metadata, f.Metadata);
        }
        Assert.Equal(8, paddings.Count);
    }

    [Theory]
    [InlineData("llama-bfloat16")]
    [InlineData("phi-float32")]
    public void CheckpointWriterFilesAreWellFormed(string fixture)
    {
        using var dir = new TempDir();
        using var source = Checkpoint.Open(HfTiny(fixture));
        CheckpointWriter.SaveAs(source, dir.Directory, maxShardBytes: source.WeightBytes / 3);
        var pt = new Dictionary<string, string> { ["format"] = "pt" };
        foreach (var file in Directory.GetFiles(dir.Directory, "*.safetensors")) AssertWellFormed(file, pt);
    }

    [Fact]
    public void SharedFixturesAreWellFormedByTheSameCheck()
    {
        AssertWellFormed(Path.Combine(HfTiny("llama-float32"), Checkpoint.SingleFile));
        AssertWellFormed(Path.Combine(Trained, "model-00002-of-00004.safetensors"));
    }
}
