using System.Security.Cryptography;
using System.Text;

namespace EdgeLlm.Evaluation.Runs;

/// <summary>
/// Which model a run folder's records come from: its folder, and a fingerprint = SHA-256 over config.json's bytes
/// and the names and sizes of its weight files (*.safetensors, *.bin, their index). Two folders with the same
/// fingerprint hold the same model as far as a resume is concerned (a moved folder resumes; a pruned one does not).
/// </summary>
public sealed record ModelIdentity(string Folder, string Fingerprint)
{
    public static ModelIdentity Of(string folder)
    {
        var full = Path.GetFullPath(folder);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var config = Path.Combine(full, "config.json");
        if (!File.Exists(config)) throw new FileNotFoundException($"{full} has no config.json; cannot identify the model.", config);
        sha.AppendData(File.ReadAllBytes(config));
        foreach (var file in WeightFiles(full).Order(StringComparer.Ordinal))
            sha.AppendData(Encoding.UTF8.GetBytes($"\n{Path.GetFileName(file)}\t{new FileInfo(file).Length}"));
        return new ModelIdentity(full, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    /// <summary>The files the fingerprint counts: weights (*.safetensors, *.bin) and their index.</summary>
    public static IEnumerable<string> WeightFiles(string folder) => Directory.EnumerateFiles(folder)
        .Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal) || f.EndsWith(".bin", StringComparison.Ordinal) || f.EndsWith(".index.json", StringComparison.Ordinal));

    /// <summary>Whether the folder holds weights, not only config and tokenizer (an index without its shards does not count).</summary>
    public static bool HasWeights(string folder) => WeightFiles(folder).Any(f => !f.EndsWith(".index.json", StringComparison.Ordinal));
}

/// <summary>What a run folder's records were produced with: the protocol, its prompt style, the model, and the chat template used (SHA-256 of its text, if any).</summary>
public sealed record RunIdentity(string Protocol, string PromptStyle, ModelIdentity Model, string? ChatTemplateSha256 = null)
{
    public static string HashText(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>A resume into a run folder written by another model or another protocol.</summary>
public sealed class RunMismatchException(string message) : EdgeLlmException(message);
