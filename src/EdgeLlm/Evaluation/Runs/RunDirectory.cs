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
/// RUN_DIR/predictions/&lt;task&gt;[.&lt;writer&gt;].jsonl holds the outputs <c>eval --mode infer</c> generated and
/// nobody has scored yet (<see cref="Prediction"/>), kept the same way.
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
    public IReadOnlyList<string> RecordFiles(string task) => TaskFiles(Root, task);

    /// <summary>Where <c>eval --mode infer</c> keeps outputs not yet scored.</summary>
    public string PredictionsFolder => Path.Combine(Root, "predictions");

    /// <summary>The file this instance appends a task's predictions to.</summary>
    public string PredictionsPath(string task) => Path.Combine(PredictionsFolder, Writer is null ? task + ".jsonl" : $"{task}.{Writer}.jsonl");

    /// <summary>A task's complete predictions from every writer's file (duplicates possible: the first of an id counts).</summary>
    public List<Prediction> ReadPredictionsOf(string task) =>
        TaskFiles(PredictionsFolder, task).SelectMany(f => ReadLines<Prediction>(f, "a prediction")).ToList();

    /// <summary>The ids a task has records of and, with <paramref name="predictionsCount"/>, predictions of: what needs no generating.</summary>
    public HashSet<string> DoneIds(string task, bool predictionsCount)
    {
        var ids = ReadRecordsOf(task).Select(r => r.Id).ToHashSet();
        if (predictionsCount) ids.UnionWith(ReadPredictionsOf(task).Select(p => p.Id));
        return ids;
    }

    /// <summary>Opens a task's predictions for appending, first cutting off an interrupted last line.</summary>
    public JsonLinesWriter OpenPredictionWriter(string task)
    {
        Directory.CreateDirectory(PredictionsFolder);
        return OpenAppend(PredictionsPath(task));
    }

    private static List<string> TaskFiles(string folder, string task)
    {
        var files = new List<string>();
        if (!Directory.Exists(folder)) return files;
        var own = Path.Combine(folder, task + ".jsonl");
        if (File.Exists(own)) files.Add(own);
        files.AddRange(Directory.EnumerateFiles(folder, task + ".*.jsonl")
            .Where(f => IsWriterName(Path.GetFileName(f)[(task.Length + 1)..^".jsonl".Length]))
            .Order(StringComparer.Ordinal));
        return files;
    }

    private static bool IsWriterName(string name) => name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_');

    /// <summary>The complete records of a task; a partial last line is ignored.</summary>
    public static List<SampleRecord> ReadRecords(string path) => ReadLines<SampleRecord>(path, "a sample record");

    /// <summary>The complete JSON lines of a file written by <see cref="JsonLinesWriter"/>; a partial last line is ignored.</summary>
    private static List<T> ReadLines<T>(string path, string what)
    {
        var records = new List<T>();
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
            try { records.Add(JsonSerializer.Deserialize<T>(text, Json) ?? throw new JsonException("null")); }
            catch (JsonException e) { throw new DatasetFormatException(path, line, $"not {what}: " + e.Message, e); }
        }
        return records; // bytes after the last newline are an interrupted write
    }

    /// <summary>A task's complete records from every writer's file (duplicates possible; see EvaluationRunner.Dedupe).</summary>
    public List<SampleRecord> ReadRecordsOf(string task) => RecordFiles(task).SelectMany(ReadRecords).ToList();

    /// <summary>Opens a task's records for appending, first cutting off an interrupted last line.</summary>
    public JsonLinesWriter OpenWriter(string task) => OpenAppend(RecordsPath(task));

    private static JsonLinesWriter OpenAppend(string path)
    {
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
        return new JsonLinesWriter(stream);
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
            if (records.Length == 0)
            {
                WriteJson("run.json", identity);
                return;
            }
            // Shards of one split run start together: another may have claimed the folder since the first look.
            existing = ReadIdentity() ?? throw new RunMismatchException($"{Root} holds records ({Path.GetFileName(records[0])}…) but no run.json, so which model and protocol wrote them is unknown; use a new --out folder.");
        }
        CheckAgainst(existing, identity);
    }

    /// <summary>Refuses <paramref name="identity"/> when it is not the model, protocol and chat template the folder was claimed for.</summary>
    public void CheckAgainst(RunIdentity existing, RunIdentity identity)
    {
        if (existing.Model.Fingerprint != identity.Model.Fingerprint)
            throw new RunMismatchException($"{Root} holds the records of another model ({existing.Model.Folder}, fingerprint {existing.Model.Fingerprint[..12]}); " +
                $"this run is {identity.Model.Folder} (fingerprint {identity.Model.Fingerprint[..12]}). Use another --out folder.");
        if (existing.Protocol != identity.Protocol || existing.PromptStyle != identity.PromptStyle)
            throw new RunMismatchException($"{Root} was run with protocol {existing.Protocol}; this run asks for {identity.Protocol}. Use another --out folder.");
        if (existing.ChatTemplateSha256 != identity.ChatTemplateSha256)
            throw new RunMismatchException($"{Root} was run with another chat template (sha256 {existing.ChatTemplateSha256 ?? "none"}); this run uses {identity.ChatTemplateSha256 ?? "none"}. Use another --out folder.");
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

/// <summary>Appends records or predictions, one JSON line each, flushed through to the disk before the next.</summary>
public sealed class JsonLinesWriter(FileStream stream) : IDisposable
{
    public void Append<T>(T record)
    {
        var line = JsonSerializer.Serialize(record, RunDirectory.Json) + "\n";
        stream.Write(Encoding.UTF8.GetBytes(line));
        stream.Flush(flushToDisk: true);
    }

    public void Dispose() => stream.Dispose();
}

/// <summary>
/// One output of <c>eval --mode infer</c>: the sample, the exact model input it was generated from, and the raw output,
/// to be post-processed and scored later (<c>eval --mode eval</c>, or a rerun in the default mode), perhaps on another
/// machine (HumanEval's sandbox).
/// </summary>
public sealed record Prediction(string Id, int Index, string Prompt, string Output);
