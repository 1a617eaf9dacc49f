namespace EdgeLlm.Hub;

/// <summary>
/// Turns what a user typed for a model into a folder: an existing path is used as is (no network), anything
/// else shaped like a Hub repo id ("microsoft/phi-2") is fetched into the Hub cache once and reused.
/// </summary>
public static class ModelSource
{
    /// <summary>The local folder for <paramref name="modelOrPath"/>, downloading into the cache when needed.</summary>
    public static string Resolve(string modelOrPath, string? revision = null, HubSettings? settings = null,
        IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ResolveAsync(modelOrPath, revision, settings, progress, cancellationToken).GetAwaiter().GetResult();

    public static async Task<string> ResolveAsync(string modelOrPath, string? revision = null, HubSettings? settings = null,
        IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (IsLocal(modelOrPath))
            return Directory.Exists(modelOrPath) || File.Exists(modelOrPath) ? Path.GetFullPath(modelOrPath)
                : throw new FileNotFoundException($"Model path '{modelOrPath}' does not exist.", modelOrPath);
        if (!RepoId.IsValid(modelOrPath))
            throw new FileNotFoundException($"'{modelOrPath}' is neither an existing folder nor a Hugging Face repo id ('org/name').", modelOrPath);
        var client = new HubClient(settings ?? HubSettings.FromEnvironment());
        return await client.DownloadAsync(RepoType.Model, modelOrPath, revision, ModelFileSelection.Instance, progress, cancellationToken);
    }

    /// <summary>Existing files and folders win over repo ids, and so does anything written like a path.</summary>
    internal static bool IsLocal(string text) =>
        Directory.Exists(text) || File.Exists(text) ||
        text.StartsWith('.') || text.StartsWith('/') || text.StartsWith('~') || text.Contains('\\') || Path.IsPathRooted(text);
}
