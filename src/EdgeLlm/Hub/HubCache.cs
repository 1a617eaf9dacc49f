namespace EdgeLlm.Hub;

/// <summary>
/// The Hub cache as huggingface_hub lays it out, so that transformers and EdgeLlm share downloads:
/// <c>{cache}/{models|datasets}--{org}--{name}/</c> holds <c>blobs/{etag}</c> (file contents),
/// <c>snapshots/{commit}/{path}</c> (relative symlinks to the blobs) and <c>refs/{revision}</c> (the commit a
/// branch or tag pointed to when last downloaded).
/// </summary>
public sealed class HubCache(string root)
{
    public string Root { get; } = root;

    public string RepoFolder(RepoType type, string repoId) =>
        Path.Combine(Root, $"{type.Plural()}--{repoId.Replace("/", "--")}");

    public string BlobPath(RepoType type, string repoId, string etag) =>
        Path.Combine(RepoFolder(type, repoId), "blobs", ServerNames.Blob(etag, $"blob of {repoId}", etag));

    /// <summary>The snapshot of a commit; anything but a 40-hex commit id is refused (it comes from a server).</summary>
    public string SnapshotFolder(RepoType type, string repoId, string commit) =>
        Path.Combine(RepoFolder(type, repoId), "snapshots", ServerNames.Commit(commit, $"snapshot of {repoId}"));

    public string RefPath(RepoType type, string repoId, string revision) =>
        ServerNames.IsSafeRelativePath(revision) ? Path.Combine(RepoFolder(type, repoId), "refs", revision)
            : throw new ArgumentException($"revision '{revision}' is not a branch, tag or commit name");

    /// <summary>The commit a revision maps to in the cache, or null: a commit hash maps to itself when its
    /// snapshot exists, a branch or tag through its refs file.</summary>
    public string? FindCommit(RepoType type, string repoId, string revision)
    {
        if (RepoId.IsCommitHash(revision))
            return Directory.Exists(SnapshotFolder(type, repoId, revision)) ? revision : null;
        var refPath = RefPath(type, repoId, revision);
        if (!File.Exists(refPath)) return null;
        var commit = File.ReadAllText(refPath).Trim();
        return RepoId.IsCommitHash(commit) && Directory.Exists(SnapshotFolder(type, repoId, commit)) ? commit : null;
    }

    public void WriteRef(RepoType type, string repoId, string revision, string commit)
    {
        // huggingface_hub records branches and tags only; a commit needs no ref.
        if (revision == commit) return;
        var path = RefPath(type, repoId, revision);
        if (File.Exists(path) && File.ReadAllText(path).Trim() == commit) return;
        Checkpoints.AtomicFile.WriteAllText(path, commit);
    }

    /// <summary>Makes <c>snapshots/{commit}/{file}</c> a relative symlink to its blob (a copy where the file
    /// system refuses symlinks, as huggingface_hub does on Windows).</summary>
    public string LinkIntoSnapshot(RepoType type, string repoId, string commit, string relativePath, string etag)
    {
        var blob = BlobPath(type, repoId, etag);
        var snapshot = SnapshotFolder(type, repoId, commit);
        var link = Path.Combine(snapshot, ServerNames.RelativeFile(relativePath, $"snapshot of {repoId}"));
        // Never delete or write outside the snapshot, whatever the name.
        if (!ServerNames.IsInside(snapshot, link)) throw new HubException(HubFailure.BadResponse, $"{link} lies outside {snapshot}; refused.");
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        var target = Path.GetRelativePath(Path.GetDirectoryName(link)!, blob);
        var existing = new FileInfo(link);
        if (existing.LinkTarget == target) return link;
        if (existing.Exists || existing.LinkTarget != null) existing.Delete();
        try { File.CreateSymbolicLink(link, target); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            File.Copy(blob, link, overwrite: true);
        }
        return link;
    }
}
