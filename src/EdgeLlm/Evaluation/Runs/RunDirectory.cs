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

    public string IdentityPath => Path.Combine(Root, "run.json");

    /// <summary>The identity recorded in RUN_DIR/run.json, or null for a folder that has none.</summary>
    public RunIdentity? ReadIdentity()
    {
        if (!File.Exists(IdentityPath)) return null;
        try { return JsonSerializer.Deserialize<RunIdentity>(File.ReadAllText(IdentityPath), Json) ?? throw new JsonException("null"); }
        catch (JsonException e) { throw new DatasetFormatException(IdentityPath, 1, "not a run identity: " + e.Message, e); }
    }

    /// <summary>
    /// Binds the folder to a model and protocol before any record is written: a new folder records
    /// <paramref name="identity"/> in run.json; a folder written by another model (fingerprint), protocol or chat
    /// template is refused, as is one holding records but no run.json (nothing says which model wrote them).
    /// </summary>
    public void Claim(RunIdentity identity)
    {
        var existing = ReadIdentity();
        if (existing == null)
        {
            var records = Directory.GetFiles(Root, "*.jsonl");
            if (records.Length > 0)
                throw new RunMismatchException($"{Root} holds records ({Path.GetFileName(records[0])}…) but no run.json, so which model and protocol wrote them is unknown; use a new --out folder.");
            WriteAtomically(IdentityPath, JsonSerializer.Serialize(identity, new JsonSerializerOptions(Json) { WriteIndented = true }));
            return;
        }
        if (existing.Model.Fingerprint != identity.Model.Fingerprint)
            throw new RunMismatchException($"{Root} holds the records of another model ({existing.Model.Folder}, fingerprint {existing.Model.Fingerprint[..12]}); " +
                $"this run is {identity.Model.Folder} (fingerprint {identity.Model.Fingerprint[..12]}). Use another --out folder.");
        if (existing.Protocol != identity.Protocol || existing.PromptStyle != identity.PromptStyle)
            throw new RunMismatchException($"{Root} was run with protocol {existing.Protocol}; this run asks for {identity.Protocol}. Use another --out folder.");
        if (existing.ChatTemplateSha256 != identity.ChatTemplateSha256)
            throw new RunMismatchException($"{Root} was run with another chat template (sha256 {existing.ChatTemplateSha256 ?? "none"}); this run uses {identity.ChatTemplateSha256 ?? "none"}. Use another --out folder.");
    }

    private static void WriteAtomically(string path, string text)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
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
