using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace EdgeLlm.Tests.Support;

/// <summary>
/// Runs a script under Debian's /usr/bin/python3, where scripts/setup.sh installs python3-jieba and
/// python3-fuzzywuzzy (the pyenv python3 on PATH lacks them). Input and output are JSON over stdin/stdout.
/// A missing package fails the test with the command that installs it; it is never a silent skip.
/// </summary>
public static class DebianPython
{
    public const string Executable = "/usr/bin/python3";

    public static JsonElement Run(string script, object input, string requiredModule, string debianPackage)
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"{Executable} is missing: run scripts/setup.sh (apt-get install -y python3 {debianPackage}).");
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false), StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"import sys, json\ntry:\n    import {requiredModule}\nexcept ImportError:\n    sys.exit(77)\n{script}");
        start.Environment["PYTHONIOENCODING"] = "utf-8";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(JsonSerializer.Serialize(input));
        process.StandardInput.Close();
        process.WaitForExit();
        if (process.ExitCode == 77)
            throw new InvalidOperationException(
                $"{Executable} cannot import {requiredModule}: install Debian's {debianPackage} (scripts/setup.sh does: apt-get install -y {debianPackage}).");
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Executable} failed ({process.ExitCode}): {stderr.Result}");
        return JsonDocument.Parse(stdout.Result).RootElement.Clone();
    }
}
