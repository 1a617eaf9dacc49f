using System.Net;
using System.Net.Http.Headers;

namespace EdgeLlm.Hub;

/// <summary>
/// Downloads one URL into <c>{destination}.incomplete</c>, resuming with <c>Range: bytes=N-</c> after a dropped
/// connection (also across runs), checks the result and only then renames it to <paramref name="Destination"/>.
/// A file that fails its check is deleted; an interrupted one stays as <c>.incomplete</c> for the next attempt.
/// </summary>
internal sealed record FileTransfer(string Url, string Destination, string Description)
{
    public string? Token { get; init; }
    public long? ExpectedSize { get; init; }
    /// <summary>Checks the finished file; returns a problem description or null when it is good.</summary>
    public Func<string, string?> Verify { get; init; } = _ => null;
    public string RepoPage { get; init; } = "";

    public string IncompletePath => Destination + ".incomplete";

    public async Task RunAsync(HttpClient http, int maxAttempts, Action<long> onBytes, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Destination)!);
        Exception? lastFailure = null;
        bool complete = false;
        for (int attempt = 1; attempt <= maxAttempts && !complete; attempt++)
        {
            if (attempt > 1) await Task.Delay(TimeSpan.FromMilliseconds(200 * (attempt - 1)), ct);
            try { complete = await AttemptAsync(http, onBytes, ct); }
            catch (Exception e) when (e is HttpRequestException or IOException && e is not HubException && !ct.IsCancellationRequested)
            {
                lastFailure = e;
            }
        }
        if (!complete)
        {
            long have = File.Exists(IncompletePath) ? new FileInfo(IncompletePath).Length : 0;
            throw new HubException(HubFailure.Network,
                $"{Description}: download failed after {maxAttempts} attempts ({lastFailure?.Message}). " +
                $"{have:N0} bytes are kept in {IncompletePath}; running again resumes from there.", lastFailure);
        }
        if (Verify(IncompletePath) is { } problem)
        {
            File.Delete(IncompletePath);
            throw new HubException(HubFailure.Checksum, $"{Description}: {problem}; the download was discarded.");
        }
        File.Move(IncompletePath, Destination, overwrite: true);
    }

    /// <summary>One request; true when the whole body has been written.</summary>
    private async Task<bool> AttemptAsync(HttpClient http, Action<long> onBytes, CancellationToken ct)
    {
        long have = File.Exists(IncompletePath) ? new FileInfo(IncompletePath).Length : 0;
        if (ExpectedSize is { } size && have > size) { File.Delete(IncompletePath); have = 0; }
        if (ExpectedSize is { } full && have == full && have > 0) return true;

        using var request = HubHttp.Request(HttpMethod.Get, Url, Token);
        if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            File.Delete(IncompletePath);
            return false;
        }
        await HubHttp.EnsureSuccessAsync(response, Description, RepoPage, Token != null, ct);

        // A server that ignores Range (200) or answers another range sends the file from its start.
        bool resumed = response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From == have;
        if (!resumed && have > 0) { onBytes(-have); have = 0; }
        long? total = resumed ? response.Content.Headers.ContentRange?.Length : response.Content.Headers.ContentLength;

        await using (var body = await response.Content.ReadAsStreamAsync(ct))
        await using (var file = new FileStream(IncompletePath, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await body.ReadAsync(buffer, ct)) > 0)
            {
                await file.WriteAsync(buffer.AsMemory(0, read), ct);
                onBytes(read);
            }
        }
        long now = new FileInfo(IncompletePath).Length;
        if (total is { } expected && now < expected)
            throw new IOException($"the connection closed after {now:N0} of {expected:N0} bytes");
        return true;
    }
}
