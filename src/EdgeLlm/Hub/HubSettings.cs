namespace EdgeLlm.Hub;

/// <summary>
/// Where and how to reach the Hugging Face Hub and GitHub, and where the cache lives. Built from the same
/// environment variables huggingface_hub reads (<see cref="FromEnvironment"/>) or constructed explicitly
/// (tests, embedding applications) so nothing depends on process-wide state.
/// </summary>
public sealed record HubSettings
{
    public const string DefaultEndpoint = "https://huggingface.co";
    public const string DefaultGitHubRaw = "https://raw.githubusercontent.com";

    /// <summary>Hub base URL (HF_ENDPOINT), without a trailing slash.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>The Hub cache in huggingface_hub's layout (HF_HUB_CACHE, default $HF_HOME/hub).</summary>
    public required string HubCache { get; init; }

    /// <summary>EdgeLlm's own cache for files that do not come from the Hub (GitHub datasets).</summary>
    public required string DataCache { get; init; }

    /// <summary>Access token sent as <c>Authorization: Bearer</c> (HF_TOKEN); needed for gated models.</summary>
    public string? Token { get; init; }

    /// <summary>HF_HUB_OFFLINE: resolve from the cache only, never touch the network.</summary>
    public bool Offline { get; init; }

    /// <summary>Base URL serving raw GitHub files as <c>{base}/{owner}/{repo}/{ref}/{path}</c>.</summary>
    public string GitHubRaw { get; init; } = DefaultGitHubRaw;

    public int MaxParallelDownloads { get; init; } = 4;

    /// <summary>How many times one file download is attempted (resuming each time) before giving up.</summary>
    public int MaxAttempts { get; init; } = 3;

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Settings with every cache under <paramref name="home"/> (as if HF_HOME pointed there) and defaults otherwise.</summary>
    public static HubSettings InHome(string home) => new()
    {
        HubCache = Path.Combine(home, "hub"),
        DataCache = Path.Combine(home, "edgellm"),
    };

    public static HubSettings FromEnvironment() => FromVariables(Environment.GetEnvironmentVariable);

    /// <summary>Reads the settings from any variable lookup, with huggingface_hub's names and defaults.</summary>
    public static HubSettings FromVariables(Func<string, string?> variable)
    {
        string? Get(string name) => variable(name) is { Length: > 0 } value ? value : null;
        var xdgCache = Get("XDG_CACHE_HOME")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        var home = ExpandHome(Get("HF_HOME") ?? Path.Combine(xdgCache, "huggingface"));
        var token = Get("HF_TOKEN") ?? Get("HUGGING_FACE_HUB_TOKEN") ?? ReadTokenFile(Get("HF_TOKEN_PATH") ?? Path.Combine(home, "token"));
        return new HubSettings
        {
            Endpoint = (Get("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/'),
            HubCache = ExpandHome(Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(home, "hub")),
            DataCache = ExpandHome(Get("EDGELLM_DATA_CACHE") ?? Path.Combine(home, "edgellm")),
            Token = token,
            Offline = IsTrue(Get("HF_HUB_OFFLINE")) || IsTrue(Get("TRANSFORMERS_OFFLINE")),
            GitHubRaw = (Get("EDGELLM_GITHUB_RAW") ?? DefaultGitHubRaw).TrimEnd('/'),
        };
    }

    // huggingface_hub's truthy spellings for boolean variables.
    private static bool IsTrue(string? value) =>
        value != null && value.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "")
            : path;

    private static string? ReadTokenFile(string path)
    {
        try { return File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } t ? t : null; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
