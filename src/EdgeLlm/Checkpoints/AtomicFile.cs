namespace EdgeLlm.Checkpoints;

/// <summary>Writes a file under a temporary name beside its destination and renames it when complete,
/// so a reader never sees half a file and an interrupted write leaves the old file intact.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<FileStream> write)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, fs => { var bytes = System.Text.Encoding.UTF8.GetBytes(text); fs.Write(bytes); });
}
