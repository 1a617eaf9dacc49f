namespace EdgeLlm.Profiling;

/// <summary>Resident memory of this process from /proc/self/status (Linux): current and the kernel's high-water mark.</summary>
public static class ProcessMemory
{
    public static long ResidentBytes => ReadStatus("VmRSS:") ?? Environment.WorkingSet;

    /// <summary>The peak resident set size (VmHWM) since the process started or since <see cref="ResetPeak"/>.</summary>
    public static long PeakResidentBytes => ReadStatus("VmHWM:") ?? Environment.WorkingSet;

    /// <summary>Resets the kernel's high-water mark (writes 5 to /proc/self/clear_refs); false where not allowed.</summary>
    public static bool ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    private static long? ReadStatus(string key)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(key))
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0]) * 1024;
        }
        catch (IOException) { }
        return null;
    }
}
