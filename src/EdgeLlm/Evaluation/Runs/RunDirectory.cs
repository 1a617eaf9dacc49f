using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeLlm.Evaluation.Runs;

/// <summary>
/// A run's folder: RUN_DIR/&lt;task&gt;.jsonl holds one <see cref="SampleRecord"/> per line, appended and
/// flushed to disk one by one; RUN_DIR/summary.json is replaced atomically. A last line cut short by a
/// crash is dropped when the file is read (and cut off before the next append), so a resumed run
/// neither loses nor repeats a sample.
/// </summary>
public sealed class RunDirectory
{
    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string Root { get; }

    public RunDirectory(string root)
    {
        Root = root;
        Directory.CreateDirectory(root);
    }

    public string RecordsPath(string task) => Path.Combine(Root, task + ".jsonl");

    /// <summary>The complete records of a task; a partial last line is ignored.</summary>
    public static List<SampleRecord> ReadRecords(string path)
    {
        var records = new List<SampleRecord>();
        if (!File.Exists(path)) return records;
        var bytes = File.ReadAllBytes(path);
        int start = 0, line = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != (byte)'\n') continue;
            line++;
            var text = Encoding.UTF8.GetString(bytes, start, i - start);
            start = i + 1;
            if (text.Trim().Length == 0) continue;
            try { records.Add(JsonSerializer.Deserialize<SampleRecord>(text, Json)!); }
            catch (JsonException e) { throw new DatasetFormatException(path, line, "not a sample record: " + e.Message, e); }
        }
        return records; // bytes after the last newline are an interrupted write
    }

    public List<SampleRecord> ReadRecordsOf(string task) => ReadRecords(RecordsPath(task));

    /// <summary>Opens a task's records for appending, first cutting off an interrupted last line.</summary>
    public RecordWriter OpenWriter(string task)
    {
        var path = RecordsPath(task);
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        long keep = stream.Length;
        if (keep > 0)
        {
            var buffer = new byte[1];
            while (keep > 0)
            {
                stream.Position = keep - 1;
                stream.ReadExactly(buffer);
                if (buffer[0] == (byte)'\n') break;
                keep--;
            }
            stream.SetLength(keep);
        }
        stream.Position = keep;
        return new RecordWriter(stream);
    }

    public void WriteSummary(object summary)
    {
        var path = Path.Combine(Root, "summary.json");
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(summary, summary.GetType(), new JsonSerializerOptions(Json) { WriteIndented = true }));
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>Appends records, each flushed through to the disk before the next.</summary>
public sealed class RecordWriter(FileStream stream) : IDisposable
{
    public void Append(SampleRecord record)
    {
        var line = JsonSerializer.Serialize(record, RunDirectory.Json) + "\n";
        stream.Write(Encoding.UTF8.GetBytes(line));
        stream.Flush(flushToDisk: true);
    }

    public void Dispose() => stream.Dispose();
}
