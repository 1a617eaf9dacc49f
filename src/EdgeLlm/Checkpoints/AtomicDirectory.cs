namespace EdgeLlm.Checkpoints;

/// <summary>
/// Writes a whole folder under a temporary sibling name and renames it into place when complete, so a
/// reader sees either the earlier folder or the finished new one, never a mix. An existing folder is
/// renamed aside, the new one renamed in, then the old one deleted. Siblings left by killed runs carry a
/// recognisable prefix (<c>.NAME.edgellm-tmp-PID-…</c> / <c>.NAME.edgellm-old-PID-…</c>) and are removed
/// by the next write to the same folder once their process is gone.
/// </summary>
public static class AtomicDirectory
{
    private const string TempTag = ".edgellm-tmp-", OldTag = ".edgellm-old-";

    /// <summary>Calls <paramref name="write"/> with an empty staging folder, then puts that folder at <paramref name="directory"/>.</summary>
    public static T Write<T>(string directory, Func<string, T> write)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"{directory}: cannot replace a root folder");
        var name = Path.GetFileName(full);
        if (File.Exists(full)) throw new IOException($"{full} is a file, not a folder");
        Directory.CreateDirectory(parent);
        RemoveLeftovers(parent, name);
        var staging = Path.Combine(parent, $".{name}{TempTag}{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        T result;
        try { result = write(staging); }
        catch
        {
            TryDelete(staging);
            throw;
        }
        if (!Directory.Exists(full))
        {
            Directory.Move(staging, full);
            return result;
        }
        var old = Path.Combine(parent, $".{name}{OldTag}{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.Move(full, old);
        try { Directory.Move(staging, full); }
        catch
        {
            Directory.Move(old, full);
            TryDelete(staging);
            throw;
        }
        TryDelete(old);
        return result;
    }

    /// <summary>A path inside the staging folder, as it will be once the folder is in place.</summary>
    public static string Final(string staging, string directory, string path) =>
        Path.Combine(Path.GetFullPath(directory), Path.GetRelativePath(staging, path));

    /// <summary>Temporary siblings of <paramref name="name"/> whose writing process no longer runs.</summary>
    public static IReadOnlyList<string> Leftovers(string parent, string name) =>
        !Directory.Exists(parent) ? [] : Directory.EnumerateDirectories(parent, "." + name + ".edgellm-*")
            .Where(d => OwnerIsGone(Path.GetFileName(d), name)).ToList();

    private static void RemoveLeftovers(string parent, string name)
    {
        foreach (var dir in Leftovers(parent, name)) TryDelete(dir);
    }

    private static bool OwnerIsGone(string folder, string name)
    {
        var rest = folder[(name.Length + 1)..];
        if (!rest.StartsWith(TempTag, StringComparison.Ordinal) && !rest.StartsWith(OldTag, StringComparison.Ordinal)) return false;
        var pid = rest[TempTag.Length..].Split('-')[0];
        if (!int.TryParse(pid, out int id)) return false;
        if (id == Environment.ProcessId) return false; // another write of this process may be under way
        return OperatingSystem.IsLinux() ? !Directory.Exists($"/proc/{id}") : !IsRunning(id);
    }

    private static bool IsRunning(int pid)
    {
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
