namespace EdgeLlm.Hub;

public enum RepoType { Model, Dataset }

internal static class RepoTypeNames
{
    /// <summary>Plural used in API paths and cache folder names ("models", "datasets").</summary>
    public static string Plural(this RepoType type) => type == RepoType.Model ? "models" : "datasets";

    /// <summary>Prefix of resolve URLs: models have none, datasets live under "datasets/".</summary>
    public static string UrlPrefix(this RepoType type) => type == RepoType.Model ? "" : "datasets/";
}
