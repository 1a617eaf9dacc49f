using System.Net;
using System.Net.Http.Headers;

namespace EdgeLlm.Hub;

/// <summary>The shared HttpClient and the translation of Hub error responses into <see cref="HubException"/>s.</summary>
internal static class HubHttp
{
    private static readonly Lazy<HttpClient> shared = new(() => Create(TimeSpan.FromMinutes(10)));

    public static HttpClient Shared => shared.Value;

    public static HttpClient Create(TimeSpan timeout)
    {
        // Redirects are followed by the handler, which drops the Authorization header on the way, so the
        // token never reaches the CDN. No automatic decompression: .gz files must arrive byte for byte.
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = true,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        };
        var client = new HttpClient(handler) { Timeout = timeout };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("EdgeLlm", "0.1"));
        return client;
    }

    public static HttpRequestMessage Request(HttpMethod method, string url, string? token)
    {
        var request = new HttpRequestMessage(method, url);
        if (token != null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
        return request;
    }

    /// <summary>Throws a clear <see cref="HubException"/> for any non-success response.</summary>
    public static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, string repoPage, bool hasToken, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var code = response.Headers.TryGetValues("X-Error-Code", out var codes) ? codes.FirstOrDefault() : null;
        var serverMessage = response.Headers.TryGetValues("X-Error-Message", out var messages) ? messages.FirstOrDefault() : null;
        if (serverMessage == null)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            serverMessage = body.Length > 300 ? body[..300] : body;
        }
        var detail = string.IsNullOrWhiteSpace(serverMessage) ? "" : $" (server said: {serverMessage.Trim()})";
        var status = (int)response.StatusCode;
        if (code == "GatedRepo" || response.StatusCode == HttpStatusCode.Forbidden)
            throw new HubException(HubFailure.Gated,
                $"{what}: access is restricted (HTTP {status}). This is a gated repo: accept its license at {repoPage} " +
                (hasToken ? "with the account whose token is in HF_TOKEN" : "and set HF_TOKEN to an access token of that account") + detail);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            throw new HubException(HubFailure.Unauthorized,
                $"{what}: HTTP 401 Unauthorized. The repo does not exist or is private or gated; " +
                (hasToken ? "check that the token in HF_TOKEN is valid and has access" : "if it is private or gated, accept its license at " + repoPage + " and set HF_TOKEN") + detail);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            var kind = code switch
            {
                "RepoNotFound" => "repo not found",
                "RevisionNotFound" => "revision not found",
                "EntryNotFound" => "file not found in the repo",
                _ => "not found",
            };
            throw new HubException(HubFailure.NotFound, $"{what}: {kind} (HTTP 404){detail}");
        }
        throw new HubException(HubFailure.BadResponse, $"{what}: HTTP {status} {response.ReasonPhrase}{detail}");
    }
}
