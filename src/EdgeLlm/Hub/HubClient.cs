using System.Text.Json;

namespace EdgeLlm.Hub;

/// <summary>
/// Downloads revisions of Hub repos into the shared cache (<see cref="HubCache"/>). Cache first: a revision
/// whose snapshot already holds the wanted files is returned without any request, so a model transformers
/// downloaded is reused; with <see cref="HubSettings.Offline"/> the cache is the only source.
/// </summary>
public sealed class HubClient(HubSettings settings, HttpClient? http = null)
{
    private readonly HttpClient http = http ?? HubHttp.Shared;

    public HubSettings Settings { get; } = settings;
    public HubCache Cache { get; } = new(settings.HubCache);

    /// <summary>Lists a revision's files with their sizes and hashes (<c>GET /api/{type}s/{id}/revision/{rev}?blobs=true</c>).</summary>
    public async Task<RepoInfo> GetRepoInfoAsync(RepoType type, string repoId, string revision, CancellationToken ct = default)
    {
        RepoId.Validate(repoId);
        ThrowIfOffline(type, repoId, revision, "listing its files");
        var url = $"{Settings.Endpoint}/api/{type.Plural()}/{repoId}/revision/{Uri.EscapeDataString(revision)}?blobs=true";
        using var request = HubHttp.Request(HttpMethod.Get, url, Settings.Token);
        HttpResponseMessage response;
        try { response = await http.SendAsync(request, ct); }
        catch (HttpRequestException e)
        {
            throw new HubException(HubFailure.Network,
                $"Could not reach {Settings.Endpoint} to list {Describe(type, repoId)}: {e.Message}. " +
                "Check the network or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to use only what is cached.", e);
        }
        using var _ = response;
        await HubHttp.EnsureSuccessAsync(response, $"{Describe(type, repoId)} at revision '{revision}'", RepoPage(type, repoId), Settings.Token != null, ct);
        try
        {
            using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(ct));
            var root = json.RootElement;
            var what = $"{Describe(type, repoId)} (listing {url})";
            var commit = ServerNames.Commit(root.GetProperty("sha").GetString(), what);
            var files = root.GetProperty("siblings").EnumerateArray().Select(ParseSibling).ToArray();
            foreach (var f in files)
            {
                ServerNames.RelativeFile(f.Path, what);
                ServerNames.Blob(f.BlobId, what, f.Path);
                if (f.Sha256 is not null) ServerNames.Blob(f.Sha256, what, f.Path);
            }
            return new RepoInfo(commit, files);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new HubException(HubFailure.BadResponse, $"{Describe(type, repoId)}: the Hub's file list at {url} is not what the API documents ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Makes the files <paramref name="selection"/> picks from <paramref name="repoId"/>@<paramref name="revision"/>
    /// available in the cache and returns the snapshot folder holding them.
    /// </summary>
    public async Task<string> DownloadAsync(RepoType type, string repoId, string? revision, IFileSelection selection,
        IProgress<DownloadProgress>? progress = null, CancellationToken ct = default)
    {
        RepoId.Validate(repoId);
        revision ??= "main";
        if (Cache.FindCommit(type, repoId, revision) is { } cached)
        {
            var folder = Cache.SnapshotFolder(type, repoId, cached);
            if (selection.IsSatisfiedBy(folder)) return folder;
        }
        ThrowIfOffline(type, repoId, revision, "its files are not (all) in the cache at " + Cache.RepoFolder(type, repoId));

        var info = await GetRepoInfoAsync(type, repoId, revision, ct);
        var files = selection.Choose(info.Files, Describe(type, repoId));
        long total = files.Sum(f => f.Size), done = 0;
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = Settings.MaxParallelDownloads, CancellationToken = ct },
            async (file, token) =>
            {
                await FetchBlobAsync(type, repoId, info.Commit, file, bytes =>
                    progress?.Report(new DownloadProgress(file.Path, Interlocked.Add(ref done, bytes), total)), token);
                Cache.LinkIntoSnapshot(type, repoId, info.Commit, file.Path, file.Etag);
            });
        Cache.WriteRef(type, repoId, revision, info.Commit);
        return Cache.SnapshotFolder(type, repoId, info.Commit);
    }

    private async Task FetchBlobAsync(RepoType type, string repoId, string commit, HubFile file, Action<long> onBytes, CancellationToken ct)
    {
        var blob = Cache.BlobPath(type, repoId, file.Etag);
        if (File.Exists(blob) && new FileInfo(blob).Length == file.Size) { onBytes(file.Size); return; }
        var transfer = new FileTransfer(
            $"{Settings.Endpoint}/{type.UrlPrefix()}{repoId}/resolve/{commit}/{EscapePath(file.Path)}", blob,
            $"{Describe(type, repoId)}, file '{file.Path}'")
        {
            Token = Settings.Token,
            ExpectedSize = file.Size,
            Verify = path => Checksums.CheckHubFile(path, file),
            RepoPage = RepoPage(type, repoId),
        };
        await transfer.RunAsync(http, Settings.MaxAttempts, onBytes, ct);
    }

    private void ThrowIfOffline(RepoType type, string repoId, string revision, string why)
    {
        if (Settings.Offline)
            throw new HubException(HubFailure.Offline,
                $"{Describe(type, repoId)} at revision '{revision}' is needed from the Hub ({why}), but HF_HUB_OFFLINE is set. " +
                "Download it once with network access, or unset HF_HUB_OFFLINE.");
    }

    private static HubFile ParseSibling(JsonElement sibling)
    {
        var path = sibling.GetProperty("rfilename").GetString()!;
        string? sha256 = null;
        long size = sibling.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : -1;
        if (sibling.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
        {
            sha256 = lfs.GetProperty("sha256").GetString();
            if (lfs.TryGetProperty("size", out var lfsSize)) size = lfsSize.GetInt64();
        }
        var blobId = sibling.GetProperty("blobId").GetString()!;
        if (size < 0) throw new InvalidOperationException($"no size listed for '{path}' (was ?blobs=true honoured?)");
        return new HubFile(path, size, blobId, sha256);
    }

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    internal string RepoPage(RepoType type, string repoId) => $"{Settings.Endpoint}/{type.UrlPrefix()}{repoId}";

    internal static string Describe(RepoType type, string repoId) => $"{(type == RepoType.Model ? "model" : "dataset")} '{repoId}'";
}
