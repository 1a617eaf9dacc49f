using System.Text.Json;

namespace EdgeLlm.Hub;

/// <summary>
/// Downloads named files of a GitHub repository at one ref into <c>{DataCache}/github/{owner}--{repo}/{ref}/</c>.
/// GitHub publishes no checksums for raw files, so each file's SHA-256 and size go into a manifest on first
/// download and are checked whenever the file is reused; hashes pinned in the catalogue are checked on download.
/// </summary>
public sealed class GitHubFiles(HubSettings settings, HttpClient? http = null)
{
    public const string ManifestName = ".edgellm-manifest.json";

    private readonly HttpClient http = http ?? HubHttp.Shared;

    public string Folder(GitHubOrigin origin) =>
        Path.Combine(settings.DataCache, "github", $"{origin.Owner}--{origin.Repo}", origin.Ref.Replace('/', '-'));

    public async Task<string> DownloadAsync(GitHubOrigin origin, IReadOnlyList<string> files,
        IReadOnlyDictionary<string, string>? knownSha256 = null, IProgress<DownloadProgress>? progress = null, CancellationToken ct = default)
    {
        knownSha256 ??= new Dictionary<string, string>();
        var folder = Folder(origin);
        var manifestPath = Path.Combine(folder, ManifestName);
        var manifest = ReadManifest(manifestPath);
        var recorded = new Dictionary<string, ManifestEntry>(manifest);
        var missing = new List<string>();
        foreach (var file in files)
        {
            var local = Path.Combine(folder, file);
            if (!File.Exists(local)) { missing.Add(file); continue; }
            var actual = Describe(local);
            var expected = manifest.GetValueOrDefault(file) ?? (knownSha256.TryGetValue(file, out var pinned) ? new ManifestEntry(actual.Size, pinned) : null);
            if (expected != null && expected != actual)
                throw new HubException(HubFailure.Checksum,
                    $"{Name(origin)} file '{file}' in the cache ({local}) no longer matches the size/SHA-256 recorded when it was downloaded " +
                    $"({expected.Size:N0} bytes, {expected.Sha256}; now {actual.Size:N0} bytes, {actual.Sha256}). Delete it to download it again.");
            recorded[file] = actual;
        }
        if (missing.Count > 0 && settings.Offline)
            throw new HubException(HubFailure.Offline,
                $"{Name(origin)}: {string.Join(", ", missing)} not in the cache at {folder}, and HF_HUB_OFFLINE is set.");

        long done = 0;
        var downloaded = new System.Collections.Concurrent.ConcurrentDictionary<string, ManifestEntry>();
        await Parallel.ForEachAsync(missing, new ParallelOptions { MaxDegreeOfParallelism = settings.MaxParallelDownloads, CancellationToken = ct },
            async (file, token) =>
            {
                var url = $"{settings.GitHubRaw}/{origin.Owner}/{origin.Repo}/{origin.Ref}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}";
                var transfer = new FileTransfer(url, Path.Combine(folder, file), $"{Name(origin)} file '{file}' ({url})")
                {
                    RepoPage = $"https://github.com/{origin.Owner}/{origin.Repo}",
                    Verify = path => knownSha256.TryGetValue(file, out var sha) && Checksums.Sha256Hex(path) is var actual && actual != sha
                        ? $"SHA-256 is {actual}, the published file's is {sha}" : null,
                };
                await transfer.RunAsync(http, settings.MaxAttempts, bytes =>
                    progress?.Report(new DownloadProgress(file, Interlocked.Add(ref done, bytes), 0)), token);
                downloaded[file] = Describe(transfer.Destination);
            });
        foreach (var (file, entry) in downloaded) recorded[file] = entry;
        if (!recorded.OrderBy(p => p.Key).SequenceEqual(manifest.OrderBy(p => p.Key)))
            Checkpoints.AtomicFile.WriteAllText(manifestPath, JsonSerializer.Serialize(new SortedDictionary<string, ManifestEntry>(recorded), jsonOptions));
        return folder;
    }

    private static readonly JsonSerializerOptions jsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    internal sealed record ManifestEntry(long Size, string Sha256);

    private static ManifestEntry Describe(string path) => new(new FileInfo(path).Length, Checksums.Sha256Hex(path));

    private static Dictionary<string, ManifestEntry> ReadManifest(string path)
    {
        if (!File.Exists(path)) return [];
        try { return JsonSerializer.Deserialize<Dictionary<string, ManifestEntry>>(File.ReadAllText(path), jsonOptions) ?? []; }
        catch (JsonException e) { throw new HubException(HubFailure.BadResponse, $"The download manifest {path} is not valid JSON ({e.Message}); delete it and the files beside it to start over.", e); }
    }

    private static string Name(GitHubOrigin origin) => $"GitHub {origin.Owner}/{origin.Repo}@{origin.Ref}";
}
