namespace EdgeLlm.Evaluation.Sandbox;

/// <summary>Limits for one sandboxed program: wall time, address space, CPU seconds, file size, extra processes, captured output.</summary>
public sealed record SandboxLimits
{
    /// <summary>human-eval's per-problem timeout (OpenCompass passes timeout=3.0); the process is killed a second later.</summary>
    public TimeSpan WallTime { get; init; } = TimeSpan.FromSeconds(3);
    public long MemoryBytes { get; init; } = 1L << 30;
    public int CpuSeconds { get; init; } = 10;
    public long MaxFileBytes { get; init; } = 16L << 20;
    /// <summary>Processes the program may add beyond those its user already runs (RLIMIT_NPROC is per user).</summary>
    public int ExtraProcesses { get; init; } = 16;
    public int MaxOutputChars { get; init; } = 64 * 1024;
}

/// <summary>
/// What a sandboxed run did. <see cref="Outcome"/> is human-eval's result string: "passed", "timed out", or
/// "failed: " and the exception's message; a process that ended without reporting one (killed at the
/// limit, or ended by the program itself) is "timed out", as human-eval reports it. <see cref="ExitCode"/>
/// is null when the process was killed.
/// </summary>
public sealed record SandboxResult(string Outcome, bool TimedOut, int? ExitCode, string Stdout, string Stderr, bool OutputTruncated, bool NetworkIsolated)
{
    public bool Passed => Outcome == "passed";
}
