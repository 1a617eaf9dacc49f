using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace EdgeLlm.Tests.Support;

/// <summary>
/// Runs a reference script of tools/&lt;folder&gt;/ under node, with the npm packages scripts/setup.sh installs
/// there. JSON in on stdin, JSON out on stdout. A missing node or npm install fails the test with the command
/// that fixes it; it is never a silent skip.
/// </summary>
public static class NodeReference
{
    public static JsonElement Run(string toolFolder, string script, object input)
    {
        var folder = System.IO.Path.Combine(SharedData.RepoRoot, "tools", toolFolder);
        if (!Directory.Exists(System.IO.Path.Combine(folder, "node_modules")))
            throw new InvalidOperationException($"{folder}/node_modules is missing: run scripts/setup.sh (cd tools/{toolFolder} && npm install).");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = folder,
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false), StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(script);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started (apt-get install nodejs npm)");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(JsonSerializer.Serialize(input));
        process.StandardInput.Close();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"node {script} failed ({process.ExitCode}): {stderr.Result}");
        return JsonDocument.Parse(stdout.Result).RootElement.Clone();
    }
}
