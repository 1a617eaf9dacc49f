namespace EdgeLlm.Evaluation.Text.Jieba;

/// <summary>
/// Where jieba's data is read from: the installed Python package's folder (dict.txt and
/// finalseg/prob_start.py, prob_trans.py, prob_emit.py). The data is not shipped with EdgeLlm.
/// </summary>
public static class JiebaFiles
{
    /// <summary>Environment variable naming a jieba package folder, used when no folder is passed.</summary>
    public const string EnvironmentVariable = "EDGELLM_JIEBA_DIR";

    /// <summary>Where Debian's python3-jieba installs the package.</summary>
    public const string DebianFolder = "/usr/lib/python3/dist-packages/jieba";

    internal static readonly string[] Required =
        ["dict.txt", Path.Combine("finalseg", "prob_start.py"), Path.Combine("finalseg", "prob_trans.py"), Path.Combine("finalseg", "prob_emit.py")];

    /// <summary>The folder to read: <paramref name="folder"/>, else $EDGELLM_JIEBA_DIR, else Debian's. Throws naming the missing file.</summary>
    public static string Locate(string? folder = null)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        var chosen = folder ?? (string.IsNullOrEmpty(fromEnvironment) ? DebianFolder : fromEnvironment);
        foreach (var file in Required)
        {
            var path = Path.Combine(chosen, file);
            if (!File.Exists(path))
                throw new FileNotFoundException(
                    $"jieba's data file {path} is missing. Install Debian's python3-jieba (apt-get install python3-jieba), " +
                    $"or point {EnvironmentVariable} at a jieba package folder holding dict.txt and finalseg/prob_*.py.", path);
        }
        return chosen;
    }
}
