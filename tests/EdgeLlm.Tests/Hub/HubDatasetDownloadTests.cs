using EdgeLlm.Hub;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Hub;

/// <summary>Catalogued datasets fetched from a fake GitHub and a fake Hub, using the real published files from the shared fixtures.</summary>
public sealed class HubDatasetDownloadTests : IAsyncLifetime
{
    private FakeHub hub = null!;
    private readonly TempFolder home = new();
    private readonly CancellationTokenSource timeout = new(TimeSpan.FromSeconds(60));

    public async Task InitializeAsync() => hub = await FakeHub.StartAsync();

    public async Task DisposeAsync()
    {
        await hub.DisposeAsync();
        home.Dispose();
        timeout.Dispose();
    }

    private HubSettings Settings(bool offline = false) =>
        HubSettings.InHome(home.Path) with { Endpoint = hub.Url, GitHubRaw = hub.Url + "/raw", Offline = offline };

    private void ServeGsm8k()
    {
        hub.RawFiles["/openai/grade-school-math/master/grade_school_math/data/test.jsonl"] = File.ReadAllBytes(SharedData.Path("datasets", "gsm8k", "test.jsonl"));
        hub.RawFiles["/openai/grade-school-math/master/grade_school_math/data/train.jsonl"] = File.ReadAllBytes(SharedData.Path("datasets", "gsm8k", "train.jsonl"));
    }

    [Fact]
    public async Task Gsm8k_comes_from_the_authors_repository_matches_the_published_hashes_and_is_recorded_in_a_manifest()
    {
        ServeGsm8k();

        var location = await DatasetSource.ResolveAsync("gsm8k", null, null, Settings(), null, timeout.Token);

        var test = Path.Combine(location.Folder, "grade_school_math", "data", "test.jsonl");
        Assert.Contains(test, location.Files);
        Assert.Equal(File.ReadAllBytes(SharedData.Path("datasets", "gsm8k", "test.jsonl")), File.ReadAllBytes(test));
        var manifest = File.ReadAllText(Path.Combine(location.Folder, GitHubFiles.ManifestName));
        Assert.Contains(FakeHub.Sha256(File.ReadAllBytes(test)), manifest);
        Assert.Empty(Directory.GetFiles(location.Folder, "*.incomplete", SearchOption.AllDirectories));

        int before = hub.Requests.Count;
        Assert.Equal(location, await DatasetSource.ResolveAsync("gsm8k", null, null, Settings(), null, timeout.Token) with { Files = location.Files });
        Assert.Equal(before, hub.Requests.Count);
    }

    [Fact]
    public async Task A_cached_file_that_changed_since_download_is_reported()
    {
        ServeGsm8k();
        var location = await DatasetSource.ResolveAsync("gsm8k", ["grade_school_math/data/test.jsonl"], null, Settings(), null, timeout.Token);
        File.AppendAllText(location.Files[0], "{}\n");

        var error = await Assert.ThrowsAsync<HubException>(() => DatasetSource.ResolveAsync("gsm8k", ["grade_school_math/data/test.jsonl"], null, Settings(), null, timeout.Token));
        Assert.Equal(HubFailure.Checksum, error.Failure);
        Assert.Contains("test.jsonl", error.Message);
    }

    [Fact]
    public async Task A_download_that_does_not_match_the_published_hash_is_discarded()
    {
        hub.RawFiles["/openai/human-eval/master/data/HumanEval.jsonl.gz"] = [.. File.ReadAllBytes(SharedData.Path("datasets", "humaneval", "HumanEval.jsonl.gz")), 0];

        var error = await Assert.ThrowsAsync<HubException>(() => DatasetSource.ResolveAsync("humaneval", null, null, Settings(), null, timeout.Token));

        Assert.Equal(HubFailure.Checksum, error.Failure);
        Assert.Contains("HumanEval.jsonl.gz", error.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(home.Path, "edgellm"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Bbh_file_missing_upstream_gives_a_clear_404_and_offline_mode_names_the_missing_files()
    {
        var error = await Assert.ThrowsAsync<HubException>(() => DatasetSource.ResolveAsync("bbh", ["bbh/snarks.json"], null, Settings(), null, timeout.Token));
        Assert.Equal(HubFailure.NotFound, error.Failure);
        Assert.Contains("suzgunmirac/BIG-Bench-Hard", error.Message);
        Assert.Contains("bbh/snarks.json", error.Message);

        var offline = await Assert.ThrowsAsync<HubException>(() => DatasetSource.ResolveAsync("bbh", ["bbh/snarks.json"], null, Settings(offline: true), null, timeout.Token));
        Assert.Equal(HubFailure.Offline, offline.Failure);
        Assert.Contains("HF_HUB_OFFLINE", offline.Message);
    }

    [Fact]
    public async Task C4_fetches_only_the_shards_asked_for_from_the_hub_dataset_repo()
    {
        var validation = File.ReadAllBytes(SharedData.Path("datasets", "c4-format-pydoc", "c4-format-validation.00000-of-00001.json.gz"));
        var train = File.ReadAllBytes(SharedData.Path("datasets", "c4-format-pydoc", "c4-format-train.00000-of-00001.json.gz"));
        var commit = hub.AddRepo("datasets", "allenai/c4").Commit("main", new Dictionary<string, byte[]>
        {
            ["en/c4-validation.00000-of-00008.json.gz"] = validation,
            ["en/c4-train.00000-of-01024.json.gz"] = train,
            ["README.md"] = "C4"u8.ToArray(),
        });

        var location = await DatasetSource.ResolveAsync("c4", ["en/c4-validation.00000-of-00008.json.gz"], null, Settings(), null, timeout.Token);

        var repoFolder = Path.Combine(home.Path, "hub", "datasets--allenai--c4");
        Assert.Equal(Path.Combine(repoFolder, "snapshots", commit), location.Folder);
        Assert.Equal([Path.Combine(location.Folder, "en", "c4-validation.00000-of-00008.json.gz")], location.Files);
        Assert.Equal(validation, File.ReadAllBytes(location.Files[0]));
        Assert.Equal($"../../../blobs/{FakeHub.Sha256(validation)}", new FileInfo(location.Files[0]).LinkTarget);
        Assert.Contains(hub.Requests, r => r.Path == "/datasets/allenai/c4/resolve/" + commit + "/en/c4-validation.00000-of-00008.json.gz");
        Assert.DoesNotContain(hub.Requests, r => r.Path.Contains("c4-train") || r.Path.EndsWith("README.md"));
    }

    [Fact]
    public void A_local_dataset_path_is_used_without_network()
    {
        var folder = SharedData.Path("datasets", "gsm8k");
        var location = DatasetSource.Resolve(folder, ["test.jsonl"], null, HubSettings.InHome(home.Path) with { Endpoint = "http://127.0.0.1:9" });
        Assert.Equal([Path.Combine(folder, "test.jsonl")], location.Files);
        Assert.Empty(hub.Requests);
    }
}
