using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace EdgeLlm.Evaluation.Sandbox;

/// <summary>
/// Runs untrusted Python (HumanEval completions) in a child process: its own session and process group
/// (killed as a group at the time limit), setrlimit limits on memory, CPU, file size and process count,
/// captured output capped, network namespace removed with `unshare -rn` where the kernel allows it, and a
/// fresh temporary working directory deleted afterwards. A hang, a fork bomb, a disk filler or a flood of
/// output ends that program, never the evaluation.
/// </summary>
public sealed class PythonSandbox(SandboxLimits? limits = null, string python = "python3")
{
    public SandboxLimits Limits { get; } = limits ?? new SandboxLimits();

    private static readonly Lazy<bool> canUnshare = new(() => Probe("unshare", "-rn", "true"));

    /// <summary>Whether programs run without a network (an empty network namespace).</summary>
    public static bool NetworkIsolationAvailable => canUnshare.Value;

    // The launcher applies the limits to itself and then becomes the interpreter running the program.
    private const string Launcher = """
import os, resource, sys
memory, cpu, fsize, extra = (int(v) for v in sys.argv[1:5])
os.setsid()
uid = os.getuid()
running = 0
for entry in os.listdir('/proc'):
    if entry.isdigit():
        try:
            running += os.stat('/proc/' + entry).st_uid == uid
        except OSError:
            pass
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
resource.setrlimit(resource.RLIMIT_NPROC, (running + extra, running + extra))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
os.execv(sys.executable, [sys.executable, '-I', '-B', sys.argv[5]])
""";

    public SandboxResult Run(string program, CancellationToken cancellationToken = default)
    {
        var dir = Directory.CreateTempSubdirectory("edgellm-sandbox-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "launcher.py"), Launcher);
            File.WriteAllText(Path.Combine(dir.FullName, "program.py"), program);
            var info = new ProcessStartInfo
            {
                WorkingDirectory = dir.FullName,
                RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            };
            bool isolated = NetworkIsolationAvailable;
            if (isolated) { info.FileName = "unshare"; info.ArgumentList.Add("-rn"); info.ArgumentList.Add(python); }
            else info.FileName = python;
            foreach (var a in new[] { "launcher.py", Limits.MemoryBytes.ToString(), Limits.CpuSeconds.ToString(), Limits.MaxFileBytes.ToString(),
                         Limits.ExtraProcesses.ToString(), "program.py" }) info.ArgumentList.Add(a);
            info.Environment.Clear();
            info.Environment["PATH"] = "/usr/bin:/bin";
            info.Environment["HOME"] = dir.FullName;
            info.Environment["TMPDIR"] = dir.FullName;

            using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start " + python);
            process.StandardInput.Close();
            var stdout = new CappedReader(process.StandardOutput, Limits.MaxOutputChars);
            var stderr = new CappedReader(process.StandardError, Limits.MaxOutputChars);
            bool exited = WaitForExit(process, Limits.WallTime, cancellationToken);
            KillGroup(process.Id); // the program's children too, whether it finished or not
            if (!exited) process.WaitForExit();
            stdout.Finish(); stderr.Finish();
            int? code = exited ? process.ExitCode : null;
            return new SandboxResult(exited && code == 0, !exited, code, stdout.Text, stderr.Text, stdout.Truncated || stderr.Truncated, isolated);
        }
        finally
        {
            try { dir.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static bool WaitForExit(Process process, TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            if (process.WaitForExit(50)) return true;
            if (cancellationToken.IsCancellationRequested) { KillGroup(process.Id); cancellationToken.ThrowIfCancellationRequested(); }
        }
        return process.HasExited;
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    private static void KillGroup(int pid)
    {
        // The launcher called setsid(), so its pid is the process group id (under unshare, the child's
        // group is the unshare process's: unshare execs python in place).
        Kill(-pid, 9);
        try { Kill(pid, 9); } catch { }
    }

    private static bool Probe(string file, params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args) info.ArgumentList.Add(a);
            using var p = Process.Start(info)!;
            if (!p.WaitForExit(5000)) { p.Kill(); return false; }
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    /// <summary>Drains a stream on a background task, keeping at most <c>cap</c> characters.</summary>
    private sealed class CappedReader
    {
        private readonly StringBuilder text = new();
        private readonly Task pump;
        public bool Truncated { get; private set; }

        public CappedReader(StreamReader reader, int cap)
        {
            pump = Task.Run(async () =>
            {
                var buffer = new char[8192];
                int read;
                while ((read = await reader.ReadAsync(buffer)) > 0)
                {
                    int keep = Math.Min(read, cap - text.Length);
                    if (keep > 0) text.Append(buffer, 0, keep);
                    if (keep < read) Truncated = true;
                }
            });
        }

        public void Finish() => pump.Wait(TimeSpan.FromSeconds(5));
        public string Text { get { lock (text) return text.ToString(); } }
    }
}
