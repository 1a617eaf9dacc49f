using EdgeLlm.Hub;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Hub;

/// <summary>Downloads of a tiny model repo from a fake Hub, checked against huggingface_hub's cache layout and the fixture bytes.</summary>
public sealed class HubModelDownloadTests : IAsyncLifetime
{
    private const string RepoName = "tiny-org/tiny-llama";
    private static readonly string[] fixtureFiles = ["config.json", "generation_config.json", "model.safetensors"];
    private FakeHub hub = null!;
    private readonly TempFolder home = new();
    private readonly CancellationTokenSource timeout = new(TimeSpan.FromSeconds(60));
    private string mainCommit = "";

    private static string Fixture(string file) => SharedData.Path("fixtures", "hf-tiny", "llama-float16", file);

    private static Dictionary<string, byte[]> FixtureFiles() => fixtureFiles.ToDictionary(f => f, f => File.ReadAllBytes(Fixture(f)));

    public async Task InitializeAsync()
    {
        hub = await FakeHub.StartAsync();
        var files = FixtureFiles();
        files["pytorch_model.bin"] = [1, 2, 3]; // must be skipped: safetensors exist
        files["original/consolidated.00.pth"] = [4, 5, 6];
        mainCommit = hub.AddRepo("models", RepoName).Commit("main", files);
    }

    public async Task DisposeAsync()
    {
        await hub.DisposeAsync();
        home.Dispose();
        timeout.Dispose();
    }

    private HubSettings Settings(string? token = null, bool offline = false) =>
        HubSettings.InHome(home.Path) with { Endpoint = hub.Url, GitHubRaw = hub.Url + "/raw", Token = token, Offline = offline };

    private string RepoFolder => Path.Combine(home.Path, "hub", "models--tiny-org--tiny-llama");

    private Task<string> Resolve(string? revision = null, HubSettings? settings = null) =>
        ModelSource.ResolveAsync(RepoName, revision, settings ?? Settings(), null, timeout.Token);

    [Fact]
    public async Task Fresh_download_lays_out_blobs_snapshots_and_refs_as_huggingface_hub_does()
    {
        var progress = new List<DownloadProgress>();
        var folder = await ModelSource.ResolveAsync(RepoName, null, Settings(), new SyncProgress(progress), timeout.Token);

        Assert.Equal(Path.Combine(RepoFolder, "snapshots", mainCommit), folder);
        Assert.Equal(mainCommit, File.ReadAllText(Path.Combine(RepoFolder, "refs", "main")));
        Assert.Equal(fixtureFiles.Order(), Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order());
        foreach (var name in fixtureFiles)
        {
            var bytes = File.ReadAllBytes(Fixture(name));
            // LFS files are named by their SHA-256, others by their git blob id (the ETag the Hub sends).
            var etag = name.EndsWith(".safetensors") ? FakeHub.Sha256(bytes) : FakeHub.GitBlobId(bytes);
            Assert.Equal($"../../blobs/{etag}", new FileInfo(Path.Combine(folder, name)).LinkTarget);
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(RepoFolder, "blobs", etag)));
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(folder, name)));
        }
        Assert.Empty(Directory.GetFiles(Path.Combine(RepoFolder, "blobs"), "*.incomplete"));
        Assert.DoesNotContain(hub.Requests, r => r.Path.EndsWith(".bin") || r.Path.Contains("original/"));
        long total = fixtureFiles.Sum(f => new FileInfo(Fixture(f)).Length);
        Assert.Equal(total, progress.Max(p => p.Bytes));
        Assert.All(progress, p => Assert.Equal(total, p.TotalBytes));
        // The result loads as a checkpoint.
        using var checkpoint = EdgeLlm.Checkpoints.Checkpoint.Open(folder);
        Assert.True(checkpoint.ParameterCount > 0);
    }

    [Fact]
    public async Task Second_call_is_served_from_the_cache_without_any_request()
    {
        var first = await Resolve();
        int before = hub.Requests.Count;
        var second = await Resolve();
        Assert.Equal(first, second);
        Assert.Equal(before, hub.Requests.Count);
    }

    [Fact]
    public async Task Branch_and_commit_revisions_get_their_own_snapshots()
    {
        var repo = hub.AddRepo("models", RepoName);
        var changed = FixtureFiles();
        changed["config.json"] = [.. File.ReadAllBytes(Fixture("config.json")), (byte)'\n'];
        var devCommit = repo.Commit("dev", changed);

        var dev = await Resolve("dev");
        var pinned = await Resolve(mainCommit);

        Assert.Equal(Path.Combine(RepoFolder, "snapshots", devCommit), dev);
        Assert.Equal(devCommit, File.ReadAllText(Path.Combine(RepoFolder, "refs", "dev")));
        Assert.Equal(changed["config.json"], File.ReadAllBytes(Path.Combine(dev, "config.json")));
        Assert.Equal(Path.Combine(RepoFolder, "snapshots", mainCommit), pinned);
        Assert.Equal(File.ReadAllBytes(Fixture("config.json")), File.ReadAllBytes(Path.Combine(pinned, "config.json")));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "refs", mainCommit))); // commits need no ref
        // The unchanged safetensors blob is shared by both snapshots.
        Assert.Single(Directory.GetFiles(Path.Combine(RepoFolder, "blobs")), b => new FileInfo(b).Length == new FileInfo(Fixture("model.safetensors")).Length);
        Assert.Contains(hub.Requests, r => r.Path.EndsWith($"/revision/{mainCommit}"));
    }

    [Fact]
    public async Task Dropped_connection_is_resumed_with_a_range_request()
    {
        hub.DropFile = "model.safetensors";
        hub.DropAfterBytes = 100_000;
        hub.DropTimes = 1;

        var folder = await Resolve();

        Assert.Equal(File.ReadAllBytes(Fixture("model.safetensors")), File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
        Assert.Contains(hub.Requests, r => r.Path.StartsWith("/cdn/") && r.Range == "bytes=100000-");
    }

    [Fact]
    public async Task Download_that_keeps_failing_reports_it_and_the_next_run_resumes_from_the_partial_file()
    {
        hub.DropFile = "model.safetensors";
        hub.DropAfterBytes = 50_000;
        hub.DropTimes = 3; // as many as the attempts allowed

        var error = await Assert.ThrowsAsync<HubException>(() => Resolve());

        Assert.True(HubFailure.Network == error.Failure, string.Join("\n", hub.Requests));
        Assert.Contains("model.safetensors", error.Message);
        var sha = FakeHub.Sha256(File.ReadAllBytes(Fixture("model.safetensors")));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "blobs", sha)));
        Assert.True(File.Exists(Path.Combine(RepoFolder, "blobs", sha + ".incomplete")), error.ToString() + "\n" + string.Join("\n", hub.Requests));
        long partial = new FileInfo(Path.Combine(RepoFolder, "blobs", sha + ".incomplete")).Length;
        Assert.InRange(partial, 1, new FileInfo(Fixture("model.safetensors")).Length - 1);
        Assert.False(File.Exists(Path.Combine(RepoFolder, "snapshots", mainCommit, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "refs", "main")));

        var folder = await Resolve();
        Assert.Equal(File.ReadAllBytes(Fixture("model.safetensors")), File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
        Assert.Contains(hub.Requests, r => r.Range == $"bytes={partial}-");
    }

    [Fact]
    public async Task Wrong_checksum_fails_and_leaves_no_blob()
    {
        hub.CorruptFiles.Add("model.safetensors");

        var error = await Assert.ThrowsAsync<HubException>(() => Resolve());

        Assert.Equal(HubFailure.Checksum, error.Failure);
        Assert.Contains("SHA-256", error.Message);
        Assert.Contains("model.safetensors", error.Message);
        var sha = FakeHub.Sha256(File.ReadAllBytes(Fixture("model.safetensors")));
        Assert.Empty(Directory.GetFiles(Path.Combine(RepoFolder, "blobs"), sha + "*"));
    }

    [Fact]
    public async Task Unknown_repo_gives_a_not_found_message_naming_it()
    {
        var error = await Assert.ThrowsAsync<HubException>(() =>
            ModelSource.ResolveAsync("nobody/missing-model", null, Settings(), null, timeout.Token));
        Assert.Equal(HubFailure.NotFound, error.Failure);
        Assert.Contains("nobody/missing-model", error.Message);
        Assert.Contains("repo not found", error.Message);
        Assert.False(Directory.Exists(Path.Combine(home.Path, "hub", "models--nobody--missing-model", "snapshots")));
    }

    [Fact]
    public async Task Gated_repo_without_a_token_tells_the_user_to_set_HF_TOKEN_and_the_token_is_sent_as_bearer()
    {
        hub.AddRepo("models", RepoName).RequiredToken = "hf_secret";

        var error = await Assert.ThrowsAsync<HubException>(() => Resolve());
        Assert.Equal(HubFailure.Gated, error.Failure);
        Assert.Contains("HF_TOKEN", error.Message);
        Assert.Contains("license", error.Message);

        var folder = await Resolve(settings: Settings(token: "hf_secret"));
        Assert.True(File.Exists(Path.Combine(folder, "model.safetensors")));
        Assert.Contains(hub.Requests, r => r.Path.StartsWith("/api/") && r.Authorization == "Bearer hf_secret");
        // The redirect to the CDN must not carry the token.
        Assert.All(hub.Requests.Where(r => r.Path.StartsWith("/cdn/")), r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task Settings_read_from_HF_variables_reach_the_endpoint_and_cache_they_name()
    {
        var variables = new Dictionary<string, string> { ["HF_ENDPOINT"] = hub.Url + "/", ["HF_HOME"] = home.Path };
        var settings = HubSettings.FromVariables(variables.GetValueOrDefault);

        var folder = await Resolve(settings: settings);

        Assert.Equal(Path.Combine(RepoFolder, "snapshots", mainCommit), folder);
        Assert.Contains(hub.Requests, r => r.Path == $"/api/models/{RepoName}/revision/main");
    }

    [Fact]
    public async Task Offline_mode_uses_the_cache_and_fails_clearly_without_it()
    {
        var error = await Assert.ThrowsAsync<HubException>(() => Resolve(settings: Settings(offline: true)));
        Assert.Equal(HubFailure.Offline, error.Failure);
        Assert.Contains("HF_HUB_OFFLINE", error.Message);
        Assert.Empty(hub.Requests);

        var online = await Resolve();
        int before = hub.Requests.Count;
        Assert.Equal(online, await Resolve(settings: Settings(offline: true)));
        Assert.Equal(before, hub.Requests.Count);
    }

    [Fact]
    public async Task A_cache_written_by_huggingface_hub_is_used_without_any_request()
    {
        // Lay the cache out by hand the way huggingface_hub does (blobs named by ETag, relative links, refs/main).
        var commit = "0123456789abcdef0123456789abcdef01234567";
        var snapshot = Path.Combine(RepoFolder, "snapshots", commit);
        Directory.CreateDirectory(snapshot);
        Directory.CreateDirectory(Path.Combine(RepoFolder, "blobs"));
        Directory.CreateDirectory(Path.Combine(RepoFolder, "refs"));
        foreach (var name in fixtureFiles)
        {
            var bytes = File.ReadAllBytes(Fixture(name));
            var etag = name.EndsWith(".safetensors") ? FakeHub.Sha256(bytes) : FakeHub.GitBlobId(bytes);
            File.WriteAllBytes(Path.Combine(RepoFolder, "blobs", etag), bytes);
            File.CreateSymbolicLink(Path.Combine(snapshot, name), $"../../blobs/{etag}");
        }
        File.WriteAllText(Path.Combine(RepoFolder, "refs", "main"), commit);

        var folder = await Resolve();

        Assert.Equal(snapshot, folder);
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public async Task A_local_folder_is_used_as_is_without_network()
    {
        var settings = HubSettings.InHome(home.Path) with { Endpoint = "http://127.0.0.1:9" };
        var local = Path.GetDirectoryName(Fixture("config.json"))!;
        Assert.Equal(local, await ModelSource.ResolveAsync(local, null, settings, null, timeout.Token));
        Assert.Throws<FileNotFoundException>(() => ModelSource.Resolve("./no/such/folder", null, settings));
        Assert.Empty(hub.Requests);
    }

    private sealed class SyncProgress(List<DownloadProgress> into) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) { lock (into) into.Add(value); }
    }
}

public class HubUnreachableTests
{
    [Fact]
    public async Task AnUnreachableHubIsANetworkFailureThatNamesTheEndpoint()
    {
        using var home = new TempFolder();
        // Port 9 (discard) on loopback has no listener here: the connection is refused at once.
        var settings = HubSettings.InHome(home.Path) with { Endpoint = "http://127.0.0.1:9" };
        var e = await Assert.ThrowsAsync<HubException>(() => ModelSource.ResolveAsync("org/model", null, settings, null, CancellationToken.None));
        Assert.Equal(HubFailure.Network, e.Failure);
        Assert.Contains("http://127.0.0.1:9", e.Message);
        Assert.Contains("org/model", e.Message);
        Assert.DoesNotContain(Directory.EnumerateFiles(home.Path, "*", SearchOption.AllDirectories), f => f.Contains("models--"));
    }
}
