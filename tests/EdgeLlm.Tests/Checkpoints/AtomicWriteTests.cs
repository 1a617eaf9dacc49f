using EdgeLlm.Checkpoints;
using static EdgeLlm.Tests.Checkpoints.TestFiles;

namespace EdgeLlm.Tests.Checkpoints;

/// <summary>A write that fails part way leaves no file, no temp file, and an existing destination untouched.</summary>
public class AtomicWriteTests
{
    /// <summary>A tensor whose bytes cannot be produced: float values declared as I64 fail inside the writer, after the header.</summary>
    private static TensorData Failing(string name = "zz.bad") => TensorData.FromFloats(name, [2, 2], [1, 2, 3, 4], DType.I64);

    private static TensorData Good(string name = "a.good") => TensorData.FromFloats(name, [1024], new float[1024], DType.F32);

    [Fact]
    public void FailedWriteLeavesNothingBehind()
    {
        using var dir = new TempDir();
        var path = dir.Path("out.safetensors");
        Assert.Throws<NotSupportedException>(() => SafeTensorsWriter.Write(path, [Good(), Failing()]));
        Assert.Empty(Directory.GetFileSystemEntries(dir.Directory));
    }

    [Fact]
    public void FailedWriteLeavesExistingFileUnchanged()
    {
        using var dir = new TempDir();
        var path = dir.Path("out.safetensors");
        SafeTensorsWriter.Write(path, [TensorData.FromFloats("keep", [3], [1, 2, 3], DType.F32)]);
        var before = File.ReadAllBytes(path);
        var stamp = File.GetLastWriteTimeUtc(path);

        Assert.Throws<NotSupportedException>(() => SafeTensorsWriter.Write(path, [Good(), Failing()]));
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path, [Good("dup"), Good("dup")]));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));
        Assert.Equal([path], Directory.GetFileSystemEntries(dir.Directory));
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal([1f, 2f, 3f], f["keep"].ToFloatArray());
    }

    [Fact]
    public void FailedCheckpointSaveLeavesExistingFolderUnchanged()
    {
        using var dir = new TempDir();
        using var source = Checkpoint.Open(HfTiny("llama-bfloat16"));
        CheckpointWriter.SaveAs(source, dir.Directory);
        var before = Directory.GetFiles(dir.Directory).ToDictionary(p => p, File.ReadAllBytes);

        var tensors = source.Tensors.Values.Select(t => TensorData.FromView(t)).Append(Failing()).ToList();
        Assert.Throws<NotSupportedException>(() => CheckpointWriter.Save(dir.Directory, source.Config.Raw, tensors));

        var after = Directory.GetFiles(dir.Directory).ToDictionary(p => p, File.ReadAllBytes);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (p, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[p]), $"{p} changed");
        using var reopened = Checkpoint.Open(dir.Directory);
        AssertSameTensors(source, reopened);
    }

    [Fact]
    public void AtomicFileCleansUpWhenTheWriterThrows()
    {
        using var dir = new TempDir();
        var path = dir.Path("data.bin");
        File.WriteAllText(path, "old");
        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, fs =>
        {
            fs.Write(new byte[100_000]);
            throw new InvalidOperationException("interrupted");
        }));
        Assert.Equal("interrupted", e.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFileSystemEntries(dir.Directory));

        AtomicFile.WriteAllText(path, "new");
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFileSystemEntries(dir.Directory));
    }
}
