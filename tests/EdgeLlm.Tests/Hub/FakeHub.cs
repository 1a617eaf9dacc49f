using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeLlm.Tests.Hub;

/// <summary>
/// A Hugging Face Hub and a raw.githubusercontent.com on 127.0.0.1, speaking the HTTP API huggingface_hub uses:
/// <c>/api/{models|datasets}/{id}/revision/{rev}?blobs=true</c>, <c>/{id}/resolve/{rev}/{path}</c> (datasets under
/// <c>/datasets/</c>) with ETag/X-Repo-Commit headers and a 302 to a CDN path for LFS files, Range requests,
/// 401 for gated repos and 404 with X-Error-Code. GitHub raw files are served under <c>/raw/{owner}/{repo}/{ref}/{path}</c>.
/// Faults can be injected per file; every request is recorded.
/// </summary>
public sealed class FakeHub : IAsyncDisposable
{
    public sealed record Request(string Method, string Path, string? Range, string? Authorization);

    public sealed class Repo
    {
        public Dictionary<string, string> Branches { get; } = [];
        public Dictionary<string, Dictionary<string, byte[]>> Commits { get; } = [];
        public string? RequiredToken { get; set; }

        /// <summary>Adds a commit holding <paramref name="files"/> and points <paramref name="branch"/> at it.</summary>
        public string Commit(string branch, IReadOnlyDictionary<string, byte[]> files)
        {
            var commit = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
            Commits[commit] = new Dictionary<string, byte[]>(files);
            Branches[branch] = commit;
            return commit;
        }
    }

    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, Repo> repos = new();
    private readonly ConcurrentDictionary<string, byte[]> cdn = new();
    public ConcurrentDictionary<string, byte[]> RawFiles { get; } = new();
    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>File name whose CDN/raw download is cut after <see cref="DropAfterBytes"/> bytes, <see cref="DropTimes"/> times.</summary>
    public string? DropFile { get; set; }
    public int DropAfterBytes { get; set; }
    public int DropTimes { get; set; }
    /// <summary>File names served with one byte changed (the listing keeps the true hashes).</summary>
    public HashSet<string> CorruptFiles { get; } = [];

    public string Url { get; }

    /// <summary>Rewrites the JSON of every repo listing (a malicious Hub: traversal in "sha" or file names).</summary>
    public Func<string, string>? ListingRewrite { get; set; }

    private FakeHub(WebApplication app, string url) { this.app = app; Url = url; }

    public static async Task<FakeHub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeHub? hub = null;
        app.Run(context => hub!.HandleAsync(context));
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        hub = new FakeHub(app, url.TrimEnd('/'));
        return hub;
    }

    public Repo AddRepo(string kind, string repoId) => repos.GetOrAdd($"{kind}/{repoId}", _ => new Repo());

    public static bool IsLfs(string path) => path.EndsWith(".safetensors") || path.EndsWith(".gz") || path.EndsWith(".zip");

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Git's blob id: SHA-1 over "blob {length}\0" and the bytes.</summary>
    public static string GitBlobId(byte[] data) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {data.Length}\0"), .. data]));

    private static string LfsPointer(byte[] data) =>
        $"version https://git-lfs.github.com/spec/v1\noid sha256:{Sha256(data)}\nsize {data.Length}\n";

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        Requests.Enqueue(new Request(context.Request.Method, path, context.Request.Headers.Range.ToString() is { Length: > 0 } r ? r : null,
            context.Request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null));
        if (path.StartsWith("/api/")) await ApiAsync(context, path["/api/".Length..]);
        else if (path.StartsWith("/cdn/")) await ServeBytesAsync(context, cdn[path["/cdn/".Length..]], context.Request.Query["name"].ToString());
        else if (path.StartsWith("/raw/"))
        {
            if (RawFiles.TryGetValue(path["/raw".Length..], out var data)) await ServeBytesAsync(context, data, Path.GetFileName(path));
            else { context.Response.StatusCode = 404; await context.Response.WriteAsync("404: Not Found"); }
        }
        else if (path.Contains("/resolve/")) await ResolveAsync(context, path);
        else context.Response.StatusCode = 404;
    }

    private async Task ApiAsync(HttpContext context, string rest)
    {
        var kind = rest[..rest.IndexOf('/')];
        var parts = rest[(kind.Length + 1)..].Split("/revision/", 2);
        if (!Authorize(context, kind, parts[0], out var repo)) return;
        if (!FindCommit(context, repo, parts[1], out var commit)) return;
        if (context.Request.Query["blobs"] != "true") { context.Response.StatusCode = 400; return; }
        var siblings = repo.Commits[commit].Select(p => IsLfs(p.Key)
            ? (object)new { rfilename = p.Key, size = p.Value.Length, blobId = GitBlobId(Encoding.ASCII.GetBytes(LfsPointer(p.Value))), lfs = new { sha256 = Sha256(p.Value), size = p.Value.Length, pointerSize = LfsPointer(p.Value).Length } }
            : new { rfilename = p.Key, size = p.Value.Length, blobId = GitBlobId(p.Value) });
        context.Response.ContentType = "application/json";
        var listing = JsonSerializer.Serialize(new { id = parts[0], sha = commit, siblings });
        await context.Response.WriteAsync(ListingRewrite?.Invoke(listing) ?? listing);
    }

    private async Task ResolveAsync(HttpContext context, string path)
    {
        var kind = path.StartsWith("/datasets/") ? "datasets" : "models";
        var parts = path[(kind == "datasets" ? "/datasets/".Length : 1)..].Split("/resolve/", 2);
        var revAndFile = parts[1].Split('/', 2);
        if (!Authorize(context, kind, parts[0], out var repo) || !FindCommit(context, repo, revAndFile[0], out var commit)) return;
        if (!repo.Commits[commit].TryGetValue(revAndFile[1], out var data))
        {
            context.Response.StatusCode = 404;
            context.Response.Headers["X-Error-Code"] = "EntryNotFound";
            return;
        }
        context.Response.Headers["X-Repo-Commit"] = commit;
        if (IsLfs(revAndFile[1]))
        {
            var sha = Sha256(data);
            cdn[sha] = data;
            context.Response.Headers.ETag = $"\"{GitBlobId(Encoding.ASCII.GetBytes(LfsPointer(data)))}\"";
            context.Response.Headers["X-Linked-Etag"] = $"\"{sha}\"";
            context.Response.Headers["X-Linked-Size"] = data.Length.ToString();
            context.Response.Redirect($"{Url}/cdn/{sha}?name={Uri.EscapeDataString(Path.GetFileName(revAndFile[1]))}");
            return;
        }
        context.Response.Headers.ETag = $"\"{GitBlobId(data)}\"";
        await ServeBytesAsync(context, data, Path.GetFileName(revAndFile[1]));
    }

    private bool Authorize(HttpContext context, string kind, string repoId, out Repo repo)
    {
        if (!repos.TryGetValue($"{kind}/{repoId}", out repo!))
        {
            context.Response.StatusCode = 404;
            context.Response.Headers["X-Error-Code"] = "RepoNotFound";
            context.Response.Headers["X-Error-Message"] = "Repository not found";
            return false;
        }
        if (repo.RequiredToken != null && context.Request.Headers.Authorization != $"Bearer {repo.RequiredToken}")
        {
            context.Response.StatusCode = 401;
            context.Response.Headers["X-Error-Code"] = "GatedRepo";
            context.Response.Headers["X-Error-Message"] = $"Access to {repoId} is restricted. You must have access to it and be authenticated to access it. Please log in.";
            return false;
        }
        return true;
    }

    private static bool FindCommit(HttpContext context, Repo repo, string revision, out string commit)
    {
        commit = repo.Branches.GetValueOrDefault(revision) ?? (repo.Commits.ContainsKey(revision) ? revision : "");
        if (commit.Length > 0) return true;
        context.Response.StatusCode = 404;
        context.Response.Headers["X-Error-Code"] = "RevisionNotFound";
        return false;
    }

    private async Task ServeBytesAsync(HttpContext context, byte[] data, string name)
    {
        if (CorruptFiles.Contains(name)) { data = (byte[])data.Clone(); data[data.Length / 2] ^= 0xFF; }
        int start = 0;
        var range = context.Request.Headers.Range.ToString();
        if (range.StartsWith("bytes=") && range.EndsWith('-'))
        {
            start = int.Parse(range["bytes=".Length..^1]);
            if (start >= data.Length) { context.Response.StatusCode = 416; return; }
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {start}-{data.Length - 1}/{data.Length}";
        }
        context.Response.Headers.AcceptRanges = "bytes";
        context.Response.ContentLength = data.Length - start;
        if (name == DropFile && DropTimes > 0)
        {
            DropTimes--;
            await context.Response.Body.WriteAsync(data.AsMemory(start, Math.Min(DropAfterBytes, data.Length - start)));
            await context.Response.Body.FlushAsync();
            // Let the client read what was sent before the reset, or the reset can discard it in transit.
            await Task.Delay(300);
            context.Abort();
            return;
        }
        await context.Response.Body.WriteAsync(data.AsMemory(start));
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
