using System.IO.MemoryMappedFiles;
using System.Text.Json;

namespace EdgeLlm.Checkpoints;

/// <summary>
/// One memory-mapped <c>.safetensors</c> file. The header is validated completely when the file opens
/// (lengths, offsets, shapes, dtypes, overlaps), so a bad file fails at once with its name in the
/// message; tensor data is never copied.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private readonly MemoryMappedFile? map;
    private readonly MemoryMappedViewAccessor? view;
    private readonly byte* basePointer;
    private readonly Dictionary<string, TensorView> tensors;

    public string Path { get; }
    public long FileLength { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyDictionary<string, TensorView> Tensors => tensors;

    private SafeTensorsFile(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        if (!File.Exists(Path)) throw new CheckpointFormatException(Path, "file not found");
        // FileInfo reports a symlink's own length; Hub cache snapshots are symlinks to blobs.
        var info = new FileInfo(Path);
        FileLength = (info.LinkTarget != null ? (FileInfo)info.ResolveLinkTarget(returnFinalTarget: true)! : info).Length;
        if (FileLength < 8) throw new CheckpointFormatException(Path, $"file is {FileLength} bytes, too short for a safetensors header length");

        map = MemoryMappedFile.CreateFromFile(Path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            basePointer = p + view.PointerOffset;
            (tensors, Metadata) = ParseHeader();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public static SafeTensorsFile Open(string path) => new(path);

    public TensorView this[string name] => tensors.TryGetValue(name, out var t)
        ? t : throw new CheckpointFormatException(Path, $"tensor '{name}' is missing");

    public bool Contains(string name) => tensors.ContainsKey(name);

    private (Dictionary<string, TensorView>, Dictionary<string, string>) ParseHeader()
    {
        ulong headerLength = *(ulong*)basePointer;
        if (headerLength > (ulong)(FileLength - 8))
            throw new CheckpointFormatException(Path, $"header length {headerLength} runs past the end of the file ({FileLength} bytes)");
        if (headerLength > 100_000_000)
            throw new CheckpointFormatException(Path, $"header length {headerLength} is larger than the 100 MB the format allows");
        long dataStart = 8 + (long)headerLength;
        long dataLength = FileLength - dataStart;

        var headerBytes = new ReadOnlySpan<byte>(basePointer + 8, (int)headerLength);
        // JsonDocument accepts invalid UTF-8 inside strings and fails later, when a name is read, without the file.
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes))
            throw new CheckpointFormatException(Path, "header is not valid UTF-8");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(new ReadOnlyMemory<byte>(headerBytes.ToArray())); }
        catch (JsonException e) { throw new CheckpointFormatException(Path, $"header is not valid JSON: {e.Message}", e); }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(Path, "header is not a JSON object");
            var result = new Dictionary<string, TensorView>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var ranges = new List<(long Begin, long End, string Name)>();
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    if (entry.Value.ValueKind != JsonValueKind.Object)
                        throw new CheckpointFormatException(Path, "__metadata__ is not an object of strings");
                    foreach (var m in entry.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                    continue;
                }
                var (dtype, shape, begin, end) = ParseEntry(entry);
                long elements = 1, expected;
                try
                {
                    foreach (var d in shape) elements = checked(elements * d);
                    expected = checked(elements * dtype.SizeOf());
                }
                catch (OverflowException)
                {
                    throw new CheckpointFormatException(Path, $"tensor '{entry.Name}': shape [{string.Join(", ", shape)}] is too large");
                }
                if (end - begin != expected)
                    throw new CheckpointFormatException(Path,
                        $"tensor '{entry.Name}': shape [{string.Join(", ", shape)}] of {dtype.ToSafetensorsName()} needs {expected} bytes but data_offsets [{begin}, {end}] span {end - begin}");
                if (end > dataLength)
                    throw new CheckpointFormatException(Path,
                        $"tensor '{entry.Name}': data_offsets [{begin}, {end}] run past the end of the data ({dataLength} bytes; the file may be truncated)");
                ranges.Add((begin, end, entry.Name));
                result[entry.Name] = new TensorView(entry.Name, dtype, shape, basePointer + dataStart + begin, expected, Path);
            }
            ranges.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            for (int i = 1; i < ranges.Count; i++)
            {
                if (ranges[i].Begin < ranges[i - 1].End)
                    throw new CheckpointFormatException(Path,
                        $"tensors '{ranges[i - 1].Name}' and '{ranges[i].Name}' overlap (bytes {ranges[i].Begin}..{ranges[i - 1].End})");
            }
            return (result, metadata);
        }
    }

    private (DType, long[], long, long) ParseEntry(JsonProperty entry)
    {
        var v = entry.Value;
        if (v.ValueKind != JsonValueKind.Object)
            throw new CheckpointFormatException(Path, $"tensor '{entry.Name}': header entry is not an object");
        if (!v.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw new CheckpointFormatException(Path, $"tensor '{entry.Name}': dtype is missing");
        if (!DTypes.TryParse(dt.GetString()!, out var dtype))
            throw new CheckpointFormatException(Path, $"tensor '{entry.Name}': unknown dtype '{dt.GetString()}'");
        if (!v.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw new CheckpointFormatException(Path, $"tensor '{entry.Name}': shape is missing");
        var shape = new long[sh.GetArrayLength()];
        int k = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var n) || n < 0)
                throw new CheckpointFormatException(Path, $"tensor '{entry.Name}': shape {sh.GetRawText()} is not a list of non-negative integers");
            shape[k++] = n;
        }
        if (!v.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new CheckpointFormatException(Path, $"tensor '{entry.Name}': data_offsets must be [begin, end]");
        var begin = off[0].ValueKind == JsonValueKind.Number && off[0].TryGetInt64(out var b) ? b : -1;
        var end = off[1].ValueKind == JsonValueKind.Number && off[1].TryGetInt64(out var e) ? e : -1;
        if (begin < 0 || end < begin)
            throw new CheckpointFormatException(Path, $"tensor '{entry.Name}': data_offsets {off.GetRawText()} are not an increasing pair of offsets");
        return (dtype, shape, begin, end);
    }

    public void Dispose()
    {
        if (view != null)
        {
            if (basePointer != null) view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
        }
        map?.Dispose();
    }
}
