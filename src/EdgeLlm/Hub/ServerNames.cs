using System.Text.RegularExpressions;

namespace EdgeLlm.Hub;

/// <summary>
/// Checks every name a server sends before it becomes part of a path on disk: a commit must be 40 lowercase
/// hex digits, a blob id 40 or 64 hex digits (git SHA-1 or SHA-256), a file name a relative path of plain
/// segments (no "..", ".", empty segment, backslash, drive or control character, not absolute). A listing
/// that breaks one is refused whole, before anything is written.
/// </summary>
internal static partial class ServerNames
{
    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitShape();

    [GeneratedRegex("^(?:[0-9a-f]{40}|[0-9a-f]{64})$")]
    private static partial Regex BlobShape();

    public static string Commit(string? value, string what) =>
        value is not null && CommitShape().IsMatch(value) ? value
            : throw Refused(what, $"commit '{value}' is not 40 lowercase hex digits");

    public static string Blob(string? value, string what, string file) =>
        value is not null && BlobShape().IsMatch(value) ? value
            : throw Refused(what, $"blob id '{value}' of '{file}' is not a 40- or 64-digit hex hash");

    public static string RelativeFile(string? value, string what) =>
        IsSafeRelativePath(value) ? value! : throw Refused(what, $"file name '{value}' is not a plain relative path");

    /// <summary>A relative path of non-empty segments, none "." or "..", without backslashes, colons or control characters.</summary>
    public static bool IsSafeRelativePath(string? path) =>
        !string.IsNullOrEmpty(path) && path.Length <= 1024 && !path.StartsWith('/') &&
        !path.Any(c => c == '\\' || c == ':' || char.IsControl(c)) &&
        path.Split('/').All(s => s.Length > 0 && s != "." && s != "..");

    /// <summary>Whether <paramref name="path"/> (made absolute) lies inside <paramref name="folder"/>.</summary>
    public static bool IsInside(string folder, string path)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + Path.DirectorySeparatorChar;
        return Path.GetFullPath(path).StartsWith(root, StringComparison.Ordinal);
    }

    private static HubException Refused(string what, string problem) =>
        new(HubFailure.BadResponse, $"{what}: the server's answer was refused before anything was written: {problem}.");
}
