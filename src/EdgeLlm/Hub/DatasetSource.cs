namespace EdgeLlm.Hub;

/// <summary>A dataset on disk: the folder and the files in it that were asked for.</summary>
public sealed record DatasetLocation(string Folder, IReadOnlyList<string> Files);

/// <summary>
/// Turns a dataset name ("gsm8k", "allenai/c4"), a Hub dataset repo id or a local path into files on disk.
/// Catalogue names know their sources (<see cref="DatasetCatalog"/>); only the files asked for are fetched.
/// </summary>
public static class DatasetSource
{
    public static DatasetLocation Resolve(string nameOrPath, IReadOnlyList<string>? files = null, string? revision = null,
        HubSettings? settings = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ResolveAsync(nameOrPath, files, revision, settings, progress, cancellationToken).GetAwaiter().GetResult();

    /// <summary>Fetches <paramref name="files"/> (paths, or globs for Hub repos; null means the catalogue's defaults) unless cached.</summary>
    public static async Task<DatasetLocation> ResolveAsync(string nameOrPath, IReadOnlyList<string>? files = null, string? revision = null,
        HubSettings? settings = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (ModelSource.IsLocal(nameOrPath)) return Local(nameOrPath, files);
        if (files is { Count: 0 }) files = null;
        settings ??= HubSettings.FromEnvironment();
        var entry = DatasetCatalog.Find(nameOrPath);
        switch (entry?.Origin)
        {
            case GitHubOrigin github:
            {
                var origin = revision == null ? github : github with { Ref = revision };
                var wanted = files ?? entry.DefaultFiles;
                var folder = await new GitHubFiles(settings).DownloadAsync(origin, wanted, entry.KnownSha256, progress, cancellationToken);
                return new DatasetLocation(folder, wanted.Select(f => Path.Combine(folder, f)).ToArray());
            }
            case HubDatasetOrigin hub:
                return await FromHubAsync(settings, hub.RepoId, revision ?? hub.Revision, files ?? entry.DefaultFiles, progress, cancellationToken);
            default:
                if (!RepoId.IsValid(nameOrPath))
                    throw new FileNotFoundException($"'{nameOrPath}' is neither an existing path, a known dataset ({string.Join(", ", DatasetCatalog.All.Select(e => e.Name))}) nor a Hub dataset repo id.", nameOrPath);
                if (files == null)
                    throw new ArgumentException($"'{nameOrPath}' is not in EdgeLlm's dataset catalogue; name the files to fetch from that Hub dataset repo.");
                return await FromHubAsync(settings, nameOrPath, revision ?? "main", files, progress, cancellationToken);
        }
    }

    private static async Task<DatasetLocation> FromHubAsync(HubSettings settings, string repoId, string revision, IReadOnlyList<string> patterns,
        IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        var selection = new PatternSelection(patterns);
        var folder = await new HubClient(settings).DownloadAsync(RepoType.Dataset, repoId, revision, selection, progress, ct);
        var matched = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(p => patterns.Any(pattern => PatternSelection.Matches(pattern, Path.GetRelativePath(folder, p).Replace('\\', '/'))))
            .Order(StringComparer.Ordinal).ToArray();
        return new DatasetLocation(folder, matched);
    }

    private static DatasetLocation Local(string path, IReadOnlyList<string>? files)
    {
        if (File.Exists(path)) return new DatasetLocation(Path.GetDirectoryName(Path.GetFullPath(path))!, [Path.GetFullPath(path)]);
        if (!Directory.Exists(path)) throw new FileNotFoundException($"Dataset path '{path}' does not exist.", path);
        var folder = Path.GetFullPath(path);
        var chosen = files is { Count: > 0 }
            ? files.Select(f => Path.Combine(folder, f)).ToArray()
            : Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        foreach (var file in chosen)
            if (!File.Exists(file)) throw new FileNotFoundException($"Dataset file '{file}' does not exist.", file);
        return new DatasetLocation(folder, chosen);
    }
}
