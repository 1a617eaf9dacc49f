using System.Security.Cryptography;
using System.Text;

namespace EdgeLlm.Hub;

internal static class Checksums
{
    public static string Sha256Hex(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The git blob id the Hub lists for non-LFS files: SHA-1 of "blob {size}\0" followed by the content.</summary>
    public static string GitBlobId(string path)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        using var stream = File.OpenRead(path);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {stream.Length}\0"));
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0) sha1.AppendData(buffer, 0, read);
        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }

    /// <summary>Null when the file matches what the Hub lists for it, else what is wrong.</summary>
    public static string? CheckHubFile(string path, HubFile expected)
    {
        long size = new FileInfo(path).Length;
        if (size != expected.Size) return $"size is {size:N0} bytes, the Hub lists {expected.Size:N0}";
        if (expected.Sha256 is { } sha)
        {
            var actual = Sha256Hex(path);
            return actual == sha ? null : $"SHA-256 is {actual}, the Hub lists {sha}";
        }
        var blobId = GitBlobId(path);
        return blobId == expected.BlobId ? null : $"git blob id is {blobId}, the Hub lists {expected.BlobId}";
    }
}
