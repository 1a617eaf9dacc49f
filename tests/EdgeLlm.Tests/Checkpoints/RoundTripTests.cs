using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeLlm.Checkpoints;
using static EdgeLlm.Tests.Checkpoints.TestFiles;

namespace EdgeLlm.Tests.Checkpoints;

/// <summary>open → CheckpointWriter → open again gives the same tensors bit for bit, whole or sharded.</summary>
public class RoundTripTests
{
    public static TheoryData<string> AllCheckpoints()
    {
        var data = new TheoryData<string>();
        foreach (var arch in new[] { "llama", "phi", "qwen2" })
            foreach (var dtype in new[] { "float32", "bfloat16", "float16" })
                data.Add(HfTiny($"{arch}-{dtype}"));
        data.Add(Trained);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllCheckpoints))]
    public void SaveAsThenReopenIsBitIdentical(string folder)
    {
        using var dir = new TempDir();
        using var source = Checkpoint.Open(folder);
        var written = CheckpointWriter.SaveAs(source, dir.Directory);
        Assert.Contains(dir.Path(Checkpoint.SingleFile), written);
        using var copy = Checkpoint.Open(dir.Directory);
        AssertSameTensors(source, copy);
        Assert.Equal(source.Config.Raw.ToJsonString(), copy.Config.Raw.ToJsonString());
        Assert.False(File.Exists(dir.Path(Checkpoint.IndexFile)));
        Assert.Empty(Directory.GetFiles(dir.Directory, "*.tmp-*"));
    }

    [Theory]
    [MemberData(nameof(AllCheckpoints))]
    public void ShardedSaveWritesIndexAndReloadsBitIdentically(string folder)
    {
        using var dir = new TempDir();
        using var source = Checkpoint.Open(folder);
        long total = source.Tensors.Values.Sum(t => t.ByteLength);
        long maxShard = total / 5;
        CheckpointWriter.SaveAs(source, dir.Directory, maxShardBytes: maxShard);

        using var doc = JsonDocument.Parse(File.ReadAllText(dir.Path(Checkpoint.IndexFile)));
        var meta = doc.RootElement.GetProperty("metadata");
        Assert.Equal(total, meta.GetProperty("total_size").GetInt64());
        Assert.Equal(source.Tensors.Values.Sum(t => t.ElementCount), meta.GetProperty("total_parameters").GetInt64());
        var weightMap = doc.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.Equal(source.Tensors.Keys.Order(StringComparer.Ordinal), weightMap.Keys.Order(StringComparer.Ordinal));

        var shardFiles = Directory.GetFiles(dir.Directory, "*.safetensors").Select(p => Path.GetFileName(p)).Order().ToList();
        Assert.True(shardFiles.Count >= 5, $"expected at least 5 shards, got {shardFiles.Count}");
        Assert.Equal(shardFiles, weightMap.Values.Distinct().Order().ToList());
        var pattern = new Regex(@"^model-(\d{5})-of-(\d{5})\.safetensors$");
        for (int k = 0; k < shardFiles.Count; k++)
        {
            var m = pattern.Match(shardFiles[k]);
            Assert.True(m.Success, shardFiles[k]);
            Assert.Equal(k + 1, int.Parse(m.Groups[1].Value));
            Assert.Equal(shardFiles.Count, int.Parse(m.Groups[2].Value));
            using var shard = SafeTensorsFile.Open(dir.Path(shardFiles[k]));
            long bytes = shard.Tensors.Values.Sum(t => t.ByteLength);
            Assert.True(bytes <= maxShard || shard.Tensors.Count == 1, $"{shardFiles[k]} holds {bytes} bytes > {maxShard}");
            foreach (var name in shard.Tensors.Keys) Assert.Equal(shardFiles[k], weightMap[name]);
        }
        Assert.False(File.Exists(dir.Path(Checkpoint.SingleFile)));

        using var copy = Checkpoint.Open(dir.Directory);
        AssertSameTensors(source, copy);
        Assert.Equal(shardFiles.Count, copy.Files.Count);

        // Saving the sharded copy again as one file removes the index, so the folder stays unambiguous.
        using var dir2 = new TempDir();
        CheckpointWriter.SaveAs(copy, dir2.Directory);
        using var single = Checkpoint.Open(dir2.Directory);
        AssertSameTensors(source, single);
        Assert.Single(single.Files);
    }

    /// <summary>A single-dtype checkpoint saved again is the reference Python writer's file byte for byte.</summary>
    [Theory]
    [MemberData(nameof(AllCheckpoints))]
    public void SingleFileSaveReproducesReferenceWriterBytes(string folder)
    {
        if (!File.Exists(Path.Combine(folder, Checkpoint.SingleFile))) return; // the sharded fixture: covered above
        using var dir = new TempDir();
        using (var source = Checkpoint.Open(folder))
            CheckpointWriter.SaveAs(source, dir.Directory);
        var expected = File.ReadAllBytes(Path.Combine(folder, Checkpoint.SingleFile));
        var actual = File.ReadAllBytes(dir.Path(Checkpoint.SingleFile));
        ulong expectedHeader = BitConverter.ToUInt64(expected, 0), actualHeader = BitConverter.ToUInt64(actual, 0);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected, 8, (int)expectedHeader),
            System.Text.Encoding.UTF8.GetString(actual, 8, (int)actualHeader));
        Assert.True(expected.AsSpan().SequenceEqual(actual), "file bytes differ from the reference writer's");
    }

    [Fact]
    public void SaveWithEverythingInOneShardIsNotSharded()
    {
        using var dir = new TempDir();
        using var source = Checkpoint.Open(HfTiny("qwen2-bfloat16"));
        var written = CheckpointWriter.SaveAs(source, dir.Directory, maxShardBytes: source.WeightBytes);
        Assert.Equal([dir.Path(Checkpoint.SingleFile), dir.Path(Checkpoint.ConfigFile)], written);
    }
}
