using System.Diagnostics;
using System.Text.Json;

namespace EdgeLlm.Tests.Support;

/// <summary>Runs the built edgellm command (EdgeLlm.Cli.dll beside the tests) as a child process.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;
    }

    public static Result Run(params string[] args) => RunWith([], new Dictionary<string, string>(), args);

    /// <summary>Runs it behind a command prefix (setpriv to change user, say) with extra environment variables.</summary>
    public static Result RunWith(IReadOnlyList<string> prefix, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunFrom(System.IO.Path.Combine(AppContext.BaseDirectory, "EdgeLlm.Cli.dll"), prefix, environment, args);

    /// <summary>Runs a given EdgeLlm.Cli.dll (a copy another user can read, say).</summary>
    public static Result RunFrom(string dll, IReadOnlyList<string> prefix, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo(prefix.Count > 0 ? prefix[0] : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var p in prefix.Skip(1)) psi.ArgumentList.Add(p);
        if (prefix.Count > 0) psi.ArgumentList.Add("dotnet");
        foreach (var (key, value) in environment) psi.Environment[key] = value;
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("edgellm " + string.Join(' ', args) + " did not finish in 3 minutes");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
