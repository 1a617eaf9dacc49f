using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeLlm.Evaluation.Runs;

/// <summary>
/// A run's folder: RUN_DIR/&lt;task&gt;.jsonl holds one <see cref="SampleRecord"/> per line, appended and
/// flushed to disk one by one; RUN_DIR/summary.json is replaced atomically. A last line cut short by a
/// crash is dropped when the file is read (and cut off before the next append), so a resumed run
/// neither loses nor repeats a sample.
/// Several processes may share one folder (Slurm array tasks, local workers): each is given its own
/// <see cref="Writer"/> name and appends to RUN_DIR/&lt;task&gt;.&lt;writer&gt;.jsonl only, so no two
/// processes write one file; reading a task's records reads every file of the task.
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

    /// <summary>The name of the one process appending through this instance (null: the folder's own &lt;task&gt;.jsonl).</summary>
    public string? Writer { get; }

    public RunDirectory(string root) : this(root, null) { }

    public RunDirectory(string root, string? writer)
    {
        if (writer is not null && (writer.Length == 0 || !writer.All(c => char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_')))
            throw new ArgumentException($"'{writer}' is not a record writer name (ASCII letters, digits, '-', '_').", nameof(writer));
        Root = root;
        Writer = writer;
        Directory.CreateDirectory(root);
    }

    /// <summary>The file this instance appends a task's records to.</summary>
    public string RecordsPath(string task) => Path.Combine(Root, Writer is null ? task + ".jsonl" : $"{task}.{Writer}.jsonl");

    /// <summary>Every record file of a task in the folder: &lt;task&gt;.jsonl first, then each writer's, by name.</summary>
    public IReadOnlyList<string> RecordFiles(string task)
    {
        var files = new List<string>();
        var own = Path.Combine(Root, task + ".jsonl");
        if (File.Exists(own)) files.Add(own);
        files.AddRange(Directory.EnumerateFiles(Root, task + ".*.jsonl")
            .Where(f => IsWriterName(Path.GetFileName(f)[(task.Length + 1)..^".jsonl".Length]))
            .Order(StringComparer.Ordinal));
        return files;
    }

    private static bool IsWriterName(string name) => name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_');

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

    /// <summary>A task's complete records from every writer's file (duplicates possible; see EvaluationRunner.Dedupe).</summary>
    public List<SampleRecord> ReadRecordsOf(string task) => RecordFiles(task).SelectMany(ReadRecords).ToList();

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

    public void WriteSummary(object summary) => WriteJson("summary.json", summary);

    /// <summary>Writes RUN_DIR/<paramref name="name"/> atomically (a temp name unique to this process, then rename).</summary>
    public void WriteJson(string name, object summary)
    {
        var path = Path.Combine(Root, name);
        var temp = $"{path}.{Environment.ProcessId}.tmp";
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
