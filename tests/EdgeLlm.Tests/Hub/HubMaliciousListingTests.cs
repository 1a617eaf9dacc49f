using EdgeLlm.Hub;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Hub;

/// <summary>
/// A fake Hub on 127.0.0.1 answering malicious listings (issue 15: a "sha" of ../../../../tmp/victim made `get`
/// write and replace files outside the cache). Every server name is validated before anything is written:
/// the download is refused with a <see cref="HubException"/>, nothing appears outside the cache, and a file
/// placed where the traversal points is left untouched.
/// </summary>
public sealed class HubMaliciousListingTests : IAsyncLifetime
{
    private const string RepoName = "evil-org/tiny-llama";
    private FakeHub hub = null!;
    private readonly TempFolder home = new();
    private readonly TempFolder outside = new();
    private readonly CancellationTokenSource timeout = new(TimeSpan.FromSeconds(60));
    private string commit = "";

    public async Task InitializeAsync()
    {
        hub = await FakeHub.StartAsync();
        var fixture = SharedData.Path("fixtures", "hf-tiny", "llama-float16");
        commit = hub.AddRepo("models", RepoName).Commit("main", new[] { "config.json", "model.safetensors" }
            .ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(fixture, f))));
    }

    public async Task DisposeAsync()
    {
        await hub.DisposeAsync();
        home.Dispose();
        outside.Dispose();
        timeout.Dispose();
    }

    private HubSettings Settings => HubSettings.InHome(home.Path) with { Endpoint = hub.Url, GitHubRaw = hub.Url + "/raw" };

    private string Victim => Path.Combine(outside.Path, "victim");

    public static TheoryData<string, string, string> Attacks => new()
    {
        // "sha" used as the snapshot folder name.
        { "\"sha\":\"COMMIT\"", "\"sha\":\"../../../../../../../../../../VICTIM\"", "commit" },
        { "\"sha\":\"COMMIT\"", "\"sha\":\"/VICTIM\"", "commit" },
        { "\"sha\":\"COMMIT\"", "\"sha\":\"COMMIT/../../../../../../../../../../VICTIM\"", "commit" },
        // File names joined under the snapshot.
        { "\"rfilename\":\"config.json\"", "\"rfilename\":\"../../../../../../../../../../VICTIM/config.json\"", "file name" },
        { "\"rfilename\":\"config.json\"", "\"rfilename\":\"/VICTIM/config.json\"", "file name" },
        { "\"rfilename\":\"config.json\"", "\"rfilename\":\"sub\\\\..\\\\..\\\\config.json\"", "file name" },
        { "\"rfilename\":\"config.json\"", "\"rfilename\":\"sub//config.json\"", "file name" },
        { "\"rfilename\":\"config.json\"", "\"rfilename\":\"./config.json\"", "file name" },
        { "\"rfilename\":\"config.json\"", "\"rfilename\":\"C:config.json\"", "file name" },
        // Blob ids name the files in blobs/.
        { "\"blobId\":\"", "\"blobId\":\"../../../../../../../../../../VICTIM/x", "blob id" },
        { "\"sha256\":\"", "\"sha256\":\"../../../../../../../../../../VICTIM/", "blob id" },
    };

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task A_malicious_listing_is_refused_before_anything_is_written(string find, string replace, string fragment)
    {
        Directory.CreateDirectory(Victim);
        var planted = Path.Combine(Victim, "config.json");
        File.WriteAllText(planted, "the user's own file");
        var victimText = Victim.TrimStart('/');
        hub.ListingRewrite = json =>
        {
            var from = find.Replace("COMMIT", commit);
            Assert.Contains(from, json);
            int at = json.IndexOf(from, StringComparison.Ordinal); // the first occurrence only
            return json[..at] + replace.Replace("COMMIT", commit).Replace("VICTIM", victimText) + json[(at + from.Length)..];
        };
        var e = await Assert.ThrowsAsync<HubException>(() => ModelSource.ResolveAsync(RepoName, null, Settings, null, timeout.Token));
        Assert.Equal(HubFailure.BadResponse, e.Failure);
        Assert.Contains(fragment, e.Message);
        Assert.Equal(["config.json"], Directory.GetFileSystemEntries(Victim).Select(f => Path.GetFileName(f)).ToArray());
        Assert.Equal("the user's own file", File.ReadAllText(planted));
        // Nothing was downloaded at all: the listing is checked before the first blob.
        Assert.DoesNotContain(hub.Requests, r => r.Path.Contains("/resolve/"));
    }

    [Fact]
    public async Task The_honest_listing_still_downloads()
    {
        var folder = await ModelSource.ResolveAsync(RepoName, null, Settings, null, timeout.Token);
        Assert.EndsWith(Path.Combine("snapshots", commit), folder);
        Assert.True(File.Exists(Path.Combine(folder, "config.json")));
    }

    [Fact]
    public void The_cache_refuses_unsafe_names_itself()
    {
        var cache = new HubCache(home.Path);
        Assert.Throws<HubException>(() => cache.SnapshotFolder(RepoType.Model, RepoName, "../../x"));
        Assert.Throws<HubException>(() => cache.BlobPath(RepoType.Model, RepoName, "../x"));
        Assert.Throws<HubException>(() => cache.LinkIntoSnapshot(RepoType.Model, RepoName, commit, "../../../x", new string('a', 64)));
        Assert.Throws<ArgumentException>(() => cache.RefPath(RepoType.Model, RepoName, "../../../x"));
        Assert.EndsWith(Path.Combine("refs", "refs", "pr", "1"), cache.RefPath(RepoType.Model, RepoName, "refs/pr/1"));
    }
}
