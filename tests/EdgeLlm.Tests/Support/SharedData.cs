namespace EdgeLlm.Tests.Support;

/// <summary>
/// Finds the shared fixtures folder (<c>../shared</c> beside the project root). Every test that reads
/// reference data goes through here, so the location is decided in one place.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string> root = new(Locate);

    public static string Root => root.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>The project's own checkout (the folder holding Toolkit.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Reference files this project generated itself (tests/EdgeLlm.Tests/References, see tools/reference).</summary>
    public static string Reference(params string[] parts) =>
        System.IO.Path.Combine([RepoRoot, "tests", "EdgeLlm.Tests", "References", .. parts]);

    /// <summary>The root element of a JSON reference file (see <see cref="Reference"/>).</summary>
    public static System.Text.Json.JsonElement ReferenceJson(string name) =>
        System.Text.Json.JsonDocument.Parse(File.ReadAllText(Reference(name))).RootElement;

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Toolkit.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Could not find Toolkit.sln above " + AppContext.BaseDirectory);
    }

    private static string Locate()
    {
        var fromEnv = Environment.GetEnvironmentVariable("EDGELLM_SHARED");
        if (!string.IsNullOrEmpty(fromEnv) && Directory.Exists(fromEnv)) return fromEnv;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Toolkit.sln")))
            {
                var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir.FullName, "..", "shared"));
                if (Directory.Exists(candidate)) return candidate;
                throw new DirectoryNotFoundException(
                    $"The shared fixtures folder was not found at {candidate} (beside the project root). " +
                    "Clone the project next to 'shared/' or set EDGELLM_SHARED.");
            }
        }
        throw new DirectoryNotFoundException("Could not find Toolkit.sln above " + AppContext.BaseDirectory);
    }
}
