using System.Diagnostics;

namespace EdgeLlm.Profiling.Phone;

/// <summary>An Android device as <c>adb devices</c> lists it.</summary>
public sealed record AdbDevice(string Serial, string State);

/// <summary>Finds <c>adb</c> on PATH and the devices it sees; runs shell commands on one.</summary>
public sealed class Adb(string executable)
{
    public string Executable { get; } = executable;

    /// <summary>adb on <paramref name="path"/> (PATH by default), or null.</summary>
    public static Adb? Find(string? path = null)
    {
        path ??= Environment.GetEnvironmentVariable("PATH") ?? "";
        string name = OperatingSystem.IsWindows() ? "adb.exe" : "adb";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return new Adb(candidate);
        }
        return null;
    }

    /// <summary>
    /// Parses <c>adb devices</c> output: a "List of devices attached" header, then "SERIAL\tSTATE" lines
    /// (state device, offline, unauthorized, ...); daemon start-up lines begin with '*'.
    /// </summary>
    public static IReadOnlyList<AdbDevice> ParseDevices(string output) =>
        output.Split('\n').Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith("List of devices") && !l.StartsWith('*'))
            .Select(l => l.Split((char[])['\t', ' '], 2, StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length == 2).Select(p => new AdbDevice(p[0], p[1].Trim())).ToList();

    public IReadOnlyList<AdbDevice> Devices(CancellationToken cancellationToken = default) => ParseDevices(Run(["devices"], cancellationToken));

    public string Shell(string serial, string command, CancellationToken cancellationToken = default) =>
        Run(["-s", serial, "shell", command], cancellationToken);

    public string Logcat(string serial, CancellationToken cancellationToken = default) =>
        Run(["-s", serial, "logcat", "-d", "-v", "threadtime"], cancellationToken);

    private string Run(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {Executable}.");
        var stdout = p.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(cancellationToken);
        p.WaitForExitAsync(cancellationToken).GetAwaiter().GetResult();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{Executable} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result.Trim()}");
        return stdout.Result;
    }
}

/// <summary>Runs a command on an attached phone and collects the MLC-LLM statistics it (and logcat) print.</summary>
public static class PhoneRunner
{
    /// <summary>The one attached device in state "device" (or <paramref name="serial"/>); a clear error otherwise.</summary>
    public static (Adb Adb, AdbDevice Device) Connect(string? serial = null, string? path = null, CancellationToken cancellationToken = default)
    {
        var adb = Adb.Find(path) ?? throw new InvalidOperationException(
            "adb is not on PATH, so no phone can be driven; install Android platform-tools, or run the benchmark on the phone yourself and use `edgellm phone import`.");
        var ready = adb.Devices(cancellationToken).Where(d => d.State == "device").ToList();
        if (serial != null) ready = ready.Where(d => d.Serial == serial).ToList();
        return ready.Count switch
        {
            0 => throw new InvalidOperationException(serial == null
                ? $"{adb.Executable} lists no attached device in state 'device' (connect one and authorise USB debugging)."
                : $"Device {serial} is not attached in state 'device'."),
            1 => (adb, ready[0]),
            _ => throw new InvalidOperationException($"Several devices attached ({string.Join(", ", ready.Select(d => d.Serial))}); choose one with --serial."),
        };
    }

    /// <summary>Runs <paramref name="command"/> through <c>adb shell</c>, saves its output (and a logcat dump) beside
    /// <paramref name="captureDirectory"/>, and imports the statistics from both.</summary>
    public static IReadOnlyList<PhoneMeasurement> Run(string command, string model, string device, string captureDirectory,
        string? serial = null, bool logcat = true, CancellationToken cancellationToken = default)
    {
        var (adb, target) = Connect(serial, cancellationToken: cancellationToken);
        string run = $"{DateTimeOffset.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{target.Serial}";
        Directory.CreateDirectory(captureDirectory);
        var outputFile = Path.Combine(captureDirectory, run + ".txt");
        Checkpoints.AtomicFile.WriteAllText(outputFile, adb.Shell(target.Serial, command, cancellationToken));
        var files = new List<string> { outputFile };
        if (logcat)
        {
            var logFile = Path.Combine(captureDirectory, run + ".logcat.txt");
            Checkpoints.AtomicFile.WriteAllText(logFile, adb.Logcat(target.Serial, cancellationToken));
            files.Add(logFile);
        }
        var found = new List<PhoneMeasurement>();
        foreach (var f in files)
        {
            var readings = MlcLogParser.ParseText(File.ReadLines(f), f);
            if (readings.Count > 0) found.AddRange(PhoneLogImporter.Import(f, model, device, run));
        }
        if (found.Count == 0)
            throw new InvalidOperationException($"The phone printed no MLC-LLM statistics; its output is in {outputFile}.");
        return found;
    }
}
