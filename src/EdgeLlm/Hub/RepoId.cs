using System.Text.RegularExpressions;

namespace EdgeLlm.Hub;

/// <summary>Recognises Hub repo ids ("gpt2", "microsoft/phi-2") and commit hashes.</summary>
public static partial class RepoId
{
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]*(/[A-Za-z0-9][A-Za-z0-9_.\-]*)?$")]
    private static partial Regex Shape();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitShape();

    /// <summary>True for text shaped like a repo id; the Hub also forbids "--" and ".." inside names.</summary>
    public static bool IsValid(string text) =>
        text.Length <= 96 && Shape().IsMatch(text) && !text.Contains("--") && !text.Contains("..") && !text.EndsWith(".git");

    public static bool IsCommitHash(string revision) => CommitShape().IsMatch(revision);

    internal static void Validate(string repoId)
    {
        if (!IsValid(repoId))
            throw new ArgumentException($"'{repoId}' is not a Hugging Face repo id (expected 'name' or 'org/name').");
    }
}
