using System.Diagnostics;

namespace EdgeLlm.Evaluation.Sandbox;

/// <summary>
/// What a sandboxed Python needs to start and import its standard library: the interpreter binary, the
/// standard-library folders, and the shared libraries the interpreter and its extension modules load (as
/// ldd resolves them). The sandbox mounts these read-only and nothing else.
/// </summary>
internal sealed record PythonLayout(string Interpreter, IReadOnlyList<string> Folders, IReadOnlyList<string> Libraries)
{
    public static PythonLayout Discover(string python)
    {
        const string query = "import os, sys, sysconfig\n" +
            "print(os.path.realpath(sys.executable))\n" +
            "for p in {os.path.realpath(sysconfig.get_path(n)) for n in ('stdlib', 'platstdlib')} | {os.path.realpath(sysconfig.get_config_var('DESTSHARED'))}:\n" +
            "    print(p)\n";
        var lines = Run(python, ["-I", "-S", "-c", query]).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 2) throw new SandboxUnavailableException($"{python} did not report its standard library");
        var interpreter = lines[0];
        var folders = lines[1..].Distinct().Where(Directory.Exists).ToList();
        // Keep only outermost folders (platstdlib and lib-dynload usually lie inside stdlib).
        folders = folders.Where(f => !folders.Any(o => o != f && f.StartsWith(o + "/", StringComparison.Ordinal))).ToList();
        var binaries = new List<string> { interpreter };
        binaries.AddRange(lines[1..].Where(Directory.Exists).SelectMany(d => Directory.EnumerateFiles(d, "*.so", SearchOption.TopDirectoryOnly)));
        var libraries = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var line in Run("ldd", binaries).Split('\n'))
        {
            var text = line.Trim();
            int arrow = text.IndexOf("=> ", StringComparison.Ordinal);
            if (arrow >= 0) text = text[(arrow + 3)..];
            int paren = text.IndexOf(" (", StringComparison.Ordinal);
            if (!text.StartsWith('/') || paren < 0) continue; // headers, vdso, "not found"
            var path = text[..paren];
            if (!folders.Any(f => path.StartsWith(f + "/", StringComparison.Ordinal)) && path != interpreter) libraries.Add(path);
        }
        return new PythonLayout(interpreter, folders, libraries.ToList());
    }

    private static string Run(string file, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(info)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(30_000)) { p.Kill(); throw new SandboxUnavailableException($"{file} did not answer within 30 s"); }
            // ldd exits 1 when one of many files is not dynamic; its output for the others is still complete.
            if (p.ExitCode != 0 && file != "ldd") throw new SandboxUnavailableException($"{file} failed: {stderr.Result.Trim()}");
            return stdout.Result;
        }
        catch (System.ComponentModel.Win32Exception e) { throw new SandboxUnavailableException($"cannot run {file}: {e.Message}", e); }
    }
}
