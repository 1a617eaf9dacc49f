using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace EdgeLlm.Tests.Support;

/// <summary>
/// A throw-away single-node Slurm cluster on this machine: munged, slurmctld and slurmd (Debian's
/// slurm-wlm and munge, installed by scripts/setup.sh) started in the foreground as child processes,
/// from a slurm.conf generated in a temp folder that also holds the munge key and socket, the state and
/// spool folders and the logs. Both daemons bind 127.0.0.1 only (CommunicationParameters=NoCtldInAddrAny,
/// NoInAddrAny) on free ports. Dispose shuts the cluster down and removes the folder.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SlurmCluster : IDisposable
{
    public string Folder { get; }
    public string ConfigPath => Path.Combine(Folder, "slurm.conf");
    private readonly List<(string Name, Process Process)> daemons = [];

    private SlurmCluster(string folder) => Folder = folder;

    /// <summary>Starts a cluster, or returns null with the reason it cannot start here (missing programs, a daemon that failed).</summary>
    public static (SlurmCluster? Cluster, string? Reason) TryStart()
    {
        foreach (var program in new[] { "munged", "slurmctld", "slurmd", "sbatch", "sinfo", "scontrol" })
            if (Which(program) is null) return (null, $"{program} is not installed (scripts/setup.sh installs slurmctld, slurmd, slurm-client and munge)");
        // Short and private: unix socket paths are limited to 108 bytes, and munged refuses group/world-writable folders.
        var folder = Directory.CreateTempSubdirectory("edgellm-slurm-").FullName;
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var cluster = new SlurmCluster(folder);
        try
        {
            var reason = cluster.Start();
            if (reason is null) return (cluster, null);
            cluster.Dispose();
            return (null, reason);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            cluster.Dispose();
            return (null, e.Message);
        }
    }

    private string? Start()
    {
        foreach (var sub in new[] { "munge", "state", "spool", "log" }) Directory.CreateDirectory(Path.Combine(Folder, sub));
        var key = Path.Combine(Folder, "munge", "munge.key");
        File.WriteAllBytes(key, RandomNumberGenerator.GetBytes(1024));
        File.SetUnixFileMode(key, UnixFileMode.UserRead);
        var socket = Path.Combine(Folder, "munge", "munge.socket");
        var munged = Daemon("munged", "--foreground", "--force", $"--key-file={key}", $"--socket={socket}",
            $"--pid-file={Path.Combine(Folder, "munge", "munged.pid")}", $"--log-file={Path.Combine(Folder, "log", "munged.log")}",
            $"--seed-file={Path.Combine(Folder, "munge", "munged.seed")}");
        if (!WaitFor(() => File.Exists(socket) || munged.HasExited, TimeSpan.FromSeconds(20)) || munged.HasExited)
            return "munged did not start: " + Tail("munged.log");

        // slurmd -C prints this machine's node line: its name (slurmctld only runs where SlurmctldHost names this host) and CPUs.
        var probe = Capture(Which("slurmd")!, "-C");
        var name = Regex.Match(probe, @"NodeName=(\S+)").Groups[1].Value;
        var cpus = Regex.Match(probe, @"CPUs=(\d+)").Groups[1].Value;
        if (name.Length == 0 || cpus.Length == 0) return "slurmd -C did not describe this node: " + probe;
        int ctldPort = FreePort(), slurmdPort = FreePort();
        string user = Environment.UserName;
        File.WriteAllText(ConfigPath, $"""
            ClusterName=edgellmtest
            SlurmctldHost={name}(127.0.0.1)
            SlurmctldPort={ctldPort}
            SlurmdPort={slurmdPort}
            CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
            SlurmUser={user}
            SlurmdUser={user}
            AuthType=auth/munge
            CredType=cred/munge
            AuthInfo=socket={socket}
            StateSaveLocation={Path.Combine(Folder, "state")}
            SlurmdSpoolDir={Path.Combine(Folder, "spool")}
            SlurmctldPidFile={Path.Combine(Folder, "slurmctld.pid")}
            SlurmdPidFile={Path.Combine(Folder, "slurmd.pid")}
            SlurmctldLogFile={Path.Combine(Folder, "log", "slurmctld.log")}
            SlurmdLogFile={Path.Combine(Folder, "log", "slurmd.log")}
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            MpiDefault=none
            SwitchType=switch/none
            JobAcctGatherType=jobacct_gather/none
            AccountingStorageType=accounting_storage/none
            JobCompType=jobcomp/none
            SchedulerType=sched/builtin
            SelectType=select/cons_tres
            SelectTypeParameters=CR_CPU
            ReturnToService=2
            MailProg=/bin/true
            InactiveLimit=0
            MinJobAge=300
            KillWait=5
            Waittime=0
            NodeName={name} NodeAddr=127.0.0.1 NodeHostname={name} CPUs={cpus} State=UNKNOWN
            PartitionName=debug Nodes={name} Default=YES MaxTime=INFINITE State=UP

            """);
        var ctld = Daemon("slurmctld", "-D", "-f", ConfigPath);
        var slurmd = Daemon("slurmd", "-D", "-f", ConfigPath);
        bool idle = WaitFor(() => ctld.HasExited || slurmd.HasExited || Capture(Which("sinfo")!, "-h", "-o", "%t").Trim() == "idle", TimeSpan.FromSeconds(60));
        if (!idle || ctld.HasExited || slurmd.HasExited)
            return $"the node did not become idle (slurmctld log: {Tail("slurmctld.log")} | slurmd log: {Tail("slurmd.log")})";
        return null;
    }

    /// <summary>Runs a Slurm client command (sbatch, squeue...) against this cluster; throws with its output on failure.</summary>
    public (int ExitCode, string Output) Client(TimeSpan timeout, string program, params string[] args)
    {
        var psi = Info(Which(program) ?? throw new InvalidOperationException($"{program} not found"), args);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {timeout}; slurmctld log: {Tail("slurmctld.log")}");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    public string Tail(string log, int lines = 6)
    {
        var path = Path.Combine(Folder, "log", log);
        return File.Exists(path) ? string.Join(" / ", File.ReadLines(path).TakeLast(lines)) : "(no log)";
    }

    public void Dispose()
    {
        if (File.Exists(ConfigPath) && Which("scontrol") is { } scontrol)
            try { Capture(scontrol, "shutdown"); } catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
        // slurmd and slurmctld leave on shutdown; munged (first started) is stopped last.
        foreach (var (name, daemon) in Enumerable.Reverse(daemons))
        {
            if (!daemon.WaitForExit(TimeSpan.FromSeconds(name == "munged" ? 0 : 15)))
                try { daemon.Kill(); } catch (InvalidOperationException) { }
            daemon.WaitForExit();
            daemon.Dispose();
        }
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private Process Daemon(string program, params string[] args)
    {
        var p = Process.Start(Info(Which(program)!, args))!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        daemons.Add((program, p));
        return p;
    }

    private string Capture(string program, params string[] args)
    {
        using var p = Process.Start(Info(program, args))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(30))) { p.Kill(); return ""; }
        return stdout.Result + stderr.Result;
    }

    private ProcessStartInfo Info(string program, string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["SLURM_CONF"] = ConfigPath;
        return psi;
    }

    private static bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (condition()) return true;
            Thread.Sleep(250);
        }
        return condition();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/usr/bin", "/sbin"])
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);
}
