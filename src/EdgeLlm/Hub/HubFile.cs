namespace EdgeLlm.Hub;

/// <summary>One file of a repo revision as the Hub lists it. <paramref name="BlobId"/> is the git blob hash;
/// <paramref name="Sha256"/> is set for LFS files. The cache names a blob after its ETag, which the Hub sets to
/// the SHA-256 for LFS files and to the git blob hash otherwise.</summary>
public sealed record HubFile(string Path, long Size, string BlobId, string? Sha256)
{
    public string Etag => Sha256 ?? BlobId;
}

/// <summary>A repo revision: the commit it resolved to and its files.</summary>
public sealed record RepoInfo(string Commit, IReadOnlyList<HubFile> Files);

/// <summary>Bytes received so far out of all bytes requested, and the file that last advanced.</summary>
public readonly record struct DownloadProgress(string File, long Bytes, long TotalBytes);
