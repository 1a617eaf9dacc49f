namespace EdgeLlm.Analysis.Charts;

/// <summary>
/// Finds plotly.js from the npm package plotly.js-dist-min (installed by scripts/setup.sh into tools/plotly/node_modules):
/// EDGELLM_PLOTLY_JS if set, else the first tools/plotly/node_modules or node_modules copy above the current folder
/// or this assembly's folder.
/// </summary>
public static class PlotlyJs
{
    private const string Relative = "node_modules/plotly.js-dist-min/plotly.min.js";
    private static string? cached;

    public static string Locate()
    {
        if (Environment.GetEnvironmentVariable("EDGELLM_PLOTLY_JS") is { Length: > 0 } env)
            return File.Exists(env) ? env : throw new FileNotFoundException($"EDGELLM_PLOTLY_JS points to '{env}', which does not exist");
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                foreach (var candidate in new[] { Path.Combine(dir.FullName, "tools", "plotly", Relative), Path.Combine(dir.FullName, Relative) })
                    if (File.Exists(candidate)) return candidate;
        throw new FileNotFoundException(
            "plotly.js not found: run scripts/setup.sh (npm install in tools/plotly) or set EDGELLM_PLOTLY_JS to plotly.min.js");
    }

    public static string Source() => cached ??= File.ReadAllText(Locate());

    /// <summary>The plotly.js version, read from the bundle's banner.</summary>
    public static string Version()
    {
        var head = Source()[..Math.Min(300, Source().Length)];
        var m = System.Text.RegularExpressions.Regex.Match(head, @"v(\d+\.\d+\.\d+)");
        return m.Success ? m.Groups[1].Value : "unknown";
    }
}
