using System.IO.Compression;
using System.Text.Json;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>
/// The attacks of issue 15, each through the real `edgellm eval` path: a crafted HumanEval.jsonl.gz whose
/// prompt ends in an open raw string that the problem's test closes, so whatever the model writes is inert
/// and the test's code runs. Each attack's check passes exactly when the attack worked, so every attack
/// must score 0; a plain problem and the survivor (whose check passes once it has forked) score 1.
/// Run as root (as CI does) and again as nobody through setpriv (an ordinary user: bwrap is started directly).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class SandboxAttackTests : TempDirectoryTest
{
    private const string Open = "def f():\n    return 1\n\n_ = r'''";

    [Fact]
    public void AttacksFailThroughEvalAsRoot() => RunAttacks(asNobody: false);

    [Fact]
    public void AttacksFailThroughEvalAsAnOrdinaryUser() => RunAttacks(asNobody: true);

    private void RunAttacks(bool asNobody)
    {
        Assert.True(Environment.IsPrivilegedProcess, "the tests run as root (CI does); setpriv needs it to become nobody");
        var escapeFolder = Path.Combine(Temp, "host");
        Directory.CreateDirectory(escapeFolder);
        var marker = "edgellm-survivor-" + Guid.NewGuid().ToString("N");
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var problems = new (string Id, string Body)[]
        {
            ("plain", "def check(candidate):\n    assert candidate() == 1\n"),
            ("forge", """
                import __main__, os
                for fd in range(256):
                    for text in (b'passed', b'{"outcome": "passed", "exit_code": 0}'):
                        try:
                            os.write(fd, text)
                        except OSError:
                            pass
                os._exit(0)
                def check(candidate):
                    assert False
                """),
            ("kill", """
                import ctypes, os
                libc = ctypes.CDLL(None)
                # kill(-1) only where this really is a small PID namespace: on a broken sandbox it would end
                # every process of the host's user (it did once, run against the earlier sandbox as root).
                contained = len([p for p in os.listdir('/proc') if p.isdigit()]) < 10
                for pid in (os.getppid(), 1, -1):
                    for sig in (9, 15, 2, 19):
                        if pid != -1 or contained:
                            libc.kill(pid, sig)
                def check(candidate):
                    assert False
                """),
            ("escape", $$"""
                ok = []
                for path in ('{{escapeFolder}}/escaped.txt', '/tmp/escaped-{{marker}}'):
                    try:
                        with open(path, 'w') as f:
                            f.write('x')
                        import os
                        ok.append(os.path.exists('{{escapeFolder}}') or path.startswith('{{escapeFolder}}'))
                    except OSError:
                        pass
                for path in ('/etc/shadow', '/etc/passwd', '/root', '/home'):
                    try:
                        open(path).read()
                        ok.append(True)
                    except OSError:
                        pass
                def check(candidate):
                    assert any(ok)
                """),
            ("survivor", $$"""
                import os, posix, sys
                if posix.fork() == 0:
                    os.setsid()
                    if posix.fork() == 0:
                        posix.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(60)', '{{marker}}'])
                    os._exit(0)
                def check(candidate):
                    pass
                """),
            ("network", $$"""
                import socket
                def check(candidate):
                    socket.create_connection(('127.0.0.1', {{port}}), timeout=1)
                """),
            ("processes", """
                import os, posix, time
                started = 0
                for _ in range(100):
                    try:
                        if posix.fork() == 0:
                            time.sleep(5)
                            os._exit(0)
                        started += 1
                    except OSError:
                        break
                def check(candidate):
                    assert started > 16
                """),
        };
        var data = Path.Combine(Temp, "data");
        Directory.CreateDirectory(Path.Combine(data, "humaneval"));
        using (var gz = new GZipStream(File.Create(Path.Combine(data, "humaneval", "HumanEval.jsonl.gz")), CompressionLevel.Fastest))
        using (var writer = new StreamWriter(gz))
            foreach (var (id, body) in problems)
                writer.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string>
                    { ["task_id"] = id, ["prompt"] = Open, ["test"] = "'''\n" + body, ["entry_point"] = "f", ["canonical_solution"] = "" }));
        var run = Path.Combine(Temp, "run");
        var model = SharedData.Path("fixtures", "trained", "llama-pydoc");
        var args = new[] { "eval", model, "--tasks", "humaneval", "--data", data, "--out", run, "--batch-size", "7" };
        CliRunner.Result result;
        if (asNobody)
        {
            File.SetUnixFileMode(Temp, (UnixFileMode)0x1FF);
            foreach (var d in new[] { data, Path.Combine(data, "humaneval"), escapeFolder }) File.SetUnixFileMode(d, (UnixFileMode)0x1FF);
            string[] nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"];
            var dll = Path.Combine(AppContext.BaseDirectory, "EdgeLlm.Cli.dll");
            // Where the checkout or the shared data lie under a folder nobody cannot enter, run copies.
            if (!CanRead(nobody, dll)) dll = Path.Combine(CopyForEveryone(AppContext.BaseDirectory, Path.Combine(Temp, "cli")), "EdgeLlm.Cli.dll");
            if (!CanRead(nobody, Path.Combine(model, "config.json"))) args[1] = CopyForEveryone(model, Path.Combine(Temp, "model"));
            Assert.True(CanRead(nobody, "/usr/bin/python3"), "nobody cannot run /usr/bin/python3");
            result = CliRunner.RunFrom(dll, nobody, new Dictionary<string, string> { ["HOME"] = Temp, ["DOTNET_CLI_HOME"] = Temp }, args);
        }
        else result = CliRunner.Run(args);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var scores = RunDirectory.ReadRecords(Path.Combine(run, "humaneval.jsonl")).ToDictionary(r => r.Id.Split('/').Last(), r => r.Score);
        Assert.Equal(problems.Length, scores.Count);
        var expected = problems.ToDictionary(p => p.Id, p => p.Id is "plain" or "survivor" ? 1.0 : 0.0);
        Assert.Equal(expected.OrderBy(p => p.Key), scores.Where(s => expected.ContainsKey(s.Key)).OrderBy(p => p.Key));
        Assert.False(File.Exists(Path.Combine(escapeFolder, "escaped.txt")));
        Assert.False(File.Exists("/tmp/escaped-" + marker));
        Assert.False(listener.Pending());
        Assert.Empty(SandboxTests.ProcessesWith(marker));
    }

    private static bool CanRead(string[] asUser, string path)
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(asUser[0], [.. asUser[1..], "test", "-r", path]))!;
        p.WaitForExit();
        return p.ExitCode == 0;
    }

    private static string CopyForEveryone(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories).Prepend(from))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        foreach (var entry in Directory.GetFileSystemEntries(to, "*", SearchOption.AllDirectories).Append(to))
            File.SetUnixFileMode(entry, Directory.Exists(entry) ? (UnixFileMode)0x1ED : (UnixFileMode)0x1A4); // 755 / 644
        return to;
    }
}
