using System.Security.Cryptography;
using EdgeLlm.Checkpoints;
using EdgeLlm.Pruning;

namespace EdgeLlm.Tests.Checkpoints;

/// <summary>
/// `prune` output is written as a whole folder under a temporary sibling name and renamed into place: a
/// failure mid-write leaves the earlier folder byte for byte and no temporary files; a second prune replaces
/// the first completely; leftovers of killed runs are removed by the next write.
/// </summary>
public class AtomicDirectoryTests
{
    /// <summary>Fails once more than half the tensor bytes are written: shards before it are complete files by then.</summary>
    private sealed class FailHalfway : IProgress<StageProgress>
    {
        public void Report(StageProgress value)
        {
            if (value.Done * 2 > value.Total) throw new IOException($"injected failure after {value.Done} of {value.Total} bytes");
        }
    }

    private static Dictionary<string, string> Hashes(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    private static string[] Siblings(TempDir dir) => Directory.GetFileSystemEntries(dir.Directory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void AFailureMidWriteLeavesTheEarlierFolderIntact()
    {
        using var dir = new TempDir();
        using var source = Checkpoint.Open(TestFiles.Trained);
        var output = dir.Path("pruned");
        PrunedCheckpointWriter.Save(source, StructuredPruner.Plan(source, PruningMethod.L1, 0.2), output, maxShardBytes: 4 << 20);
        var before = Hashes(output);
        Assert.Contains("pruning.json", before.Keys);
        Assert.True(before.Keys.Count(k => k.EndsWith(".safetensors")) > 1); // sharded: several weight files

        // Fails half-way through the tensors, after the first shard is written.
        var e = Assert.Throws<IOException>(() => PrunedCheckpointWriter.Save(source, StructuredPruner.Plan(source, PruningMethod.L1, 0.5), output,
            maxShardBytes: 4 << 20, progress: new FailHalfway()));
        Assert.Contains("injected failure", e.Message);
        Assert.Equal(before, Hashes(output));
        Assert.Equal(["pruned"], Siblings(dir)); // no temporary folder or file left beside it
        using var reopened = Checkpoint.Open(output);
        reopened.Validate();
    }

    [Fact]
    public void ASecondPruneReplacesTheWholeFolder()
    {
        using var dir = new TempDir();
        using var source = Checkpoint.Open(TestFiles.Trained);
        var output = dir.Path("pruned");
        PrunedCheckpointWriter.Save(source, StructuredPruner.Plan(source, PruningMethod.L1, 0.2), output, maxShardBytes: 4 << 20);
        File.WriteAllText(Path.Combine(output, "stale.txt"), "from before");
        var result = PrunedCheckpointWriter.Save(source, StructuredPruner.Plan(source, PruningMethod.L1, 0.5), output);
        Assert.Equal(["config.json", "generation_config.json", "model.safetensors", "pruning.json", "tokenizer.json", "tokenizer_config.json"],
            Directory.GetFiles(output).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray());
        Assert.All(result.Files, f => Assert.True(File.Exists(f), f));
        Assert.Contains("\"ratio\": 0.5", File.ReadAllText(Path.Combine(output, "pruning.json")));
        Assert.Equal(["pruned"], Siblings(dir));
    }

    [Fact]
    public void LeftoversOfKilledRunsAreRemoved()
    {
        using var dir = new TempDir();
        // pid 2^22 + 1 is above Linux's pid_max: no such process can be running.
        var dead = dir.Path(".pruned.edgellm-tmp-4194305-0123456789abcdef");
        var deadOld = dir.Path(".pruned.edgellm-old-4194305-fedcba9876543210");
        var unrelated = dir.Path(".other.edgellm-tmp-4194305-aaaa");
        foreach (var d in new[] { dead, deadOld, unrelated })
        {
            Directory.CreateDirectory(d);
            File.WriteAllBytes(Path.Combine(d, "model.safetensors.tmp-1-x"), new byte[1 << 16]);
        }
        Assert.Equal(2, AtomicDirectory.Leftovers(dir.Directory, "pruned").Count);
        AtomicDirectory.Write(dir.Path("pruned"), staging => { File.WriteAllText(Path.Combine(staging, "a.txt"), "a"); return 0; });
        Assert.Equal([".other.edgellm-tmp-4194305-aaaa", "pruned"], Siblings(dir));
        Assert.Equal("a", File.ReadAllText(dir.Path("pruned", "a.txt")));
    }

    [Fact]
    public void AnOutputFolderHoldingTheSourceIsRefused()
    {
        using var dir = new TempDir();
        var model = dir.Path("models", "trained");
        Directory.CreateDirectory(model);
        foreach (var f in Directory.GetFiles(TestFiles.Trained)) File.Copy(f, Path.Combine(model, Path.GetFileName(f)));
        using var source = Checkpoint.Open(model);
        var plan = StructuredPruner.Plan(source, PruningMethod.L1, 0.2);
        Assert.Throws<ArgumentException>(() => PrunedCheckpointWriter.Save(source, plan, dir.Path("models")));
        Assert.Throws<ArgumentException>(() => PrunedCheckpointWriter.Save(source, plan, model));
        Assert.True(File.Exists(Path.Combine(model, "config.json")));
    }
}
