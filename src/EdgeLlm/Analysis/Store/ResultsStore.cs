using Microsoft.Data.Analysis;
using Microsoft.Data.Sqlite;

namespace EdgeLlm.Analysis.Store;

/// <summary>
/// The results of every run in one SQLite file: tidy tables under a versioned schema (PRAGMA user_version,
/// migrated on open), WAL journal so readers never block the writer, a busy timeout so concurrent writers
/// (threads or processes) wait instead of failing, and each ingestion in one transaction so a crash or an
/// error leaves either the whole run or none of it. Queries return Microsoft.Data.Analysis DataFrames (Tables/DataFrames).
/// </summary>
public sealed partial class ResultsStore : IDisposable
{
    private readonly SqliteConnection connection;
    private readonly object gate = new();

    public string Path { get; }
    public int SchemaVersion => (int)(long)Scalar("PRAGMA user_version")!;

    private ResultsStore(string path, SqliteConnection connection) { Path = path; this.connection = connection; }

    /// <summary>Opens the store at <paramref name="path"/>, creating it (and its folder) if missing and migrating an older schema.</summary>
    public static ResultsStore Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var builder = new SqliteConnectionStringBuilder { DataSource = full, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false, DefaultTimeout = 60 };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            var store = new ResultsStore(full, connection);
            store.Execute("PRAGMA busy_timeout = 60000");
            store.Execute("PRAGMA journal_mode = WAL");
            store.Execute("PRAGMA synchronous = NORMAL");
            store.Execute("PRAGMA foreign_keys = ON");
            store.Migrate();
            return store;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new InvalidDataException($"results store '{full}': {e.Message.TrimEnd('.')} (SQLite error {e.SqliteErrorCode})", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void Migrate()
    {
        int version = SchemaVersion;
        if (version > StoreSchema.LatestVersion)
            throw new InvalidDataException($"results store '{Path}' has schema version {version}; this EdgeLlm knows versions up to {StoreSchema.LatestVersion}");
        if (version == StoreSchema.LatestVersion) return;
        InTransaction(tx =>
        {
            // Another process may have migrated between our check and taking the write lock.
            int current = (int)(long)Scalar("PRAGMA user_version", tx)!;
            for (int v = current; v < StoreSchema.LatestVersion; v++)
            {
                Execute(StoreSchema.Migrations[v], tx);
                Execute($"PRAGMA user_version = {v + 1}", tx);
            }
        });
    }

    /// <summary>SQLite's own consistency check: "ok" when the file is sound.</summary>
    public string IntegrityCheck() => (string)Scalar("PRAGMA integrity_check")!;

    /// <summary>Runs a read query; <paramref name="parameters"/> binds @names (from F#: <c>dict ["@ratio", box 0.5]</c>).</summary>
    public DataFrame Query(string sql, IEnumerable<KeyValuePair<string, object?>>? parameters = null)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters ?? []) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            try
            {
                using var reader = command.ExecuteReader();
                return TableReader.Read(reader);
            }
            catch (SqliteException e) { throw new InvalidOperationException($"results store '{Path}': query failed: {e.Message}", e); }
        }
    }

    public DataFrame Query(string sql, IDictionary<string, object> parameters) =>
        Query(sql, parameters.Select(kv => new KeyValuePair<string, object?>(kv.Key, kv.Value)));

    public DataFrame Runs() => Query("SELECT * FROM v_runs ORDER BY run_id");
    public DataFrame TaskScores() => Query("SELECT * FROM v_task_scores ORDER BY run_id, task, metric");
    public DataFrame Perplexities() => Query("SELECT * FROM v_perplexities ORDER BY run_id, dataset");
    public DataFrame Throughput() => Query("SELECT * FROM v_throughput ORDER BY run_id");
    public DataFrame Memory() => Query("SELECT * FROM v_memory ORDER BY run_id, kind");
    public DataFrame Phone() => Query("SELECT * FROM v_phone ORDER BY run_id, device");
    public DataFrame Samples(long runId) =>
        Query("SELECT task, sample_index, prompt, reference, prediction, correct, log_likelihood FROM samples WHERE run_id = @run ORDER BY task, sample_index",
            [new("@run", runId)]);

    /// <summary>The run id for a run key, or null.</summary>
    public long? FindRun(string key) => Scalar("SELECT id FROM runs WHERE run_key = @key", null, ("@key", key)) as long?;

    internal object? Scalar(string sql, SqliteTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Transaction = tx;
            foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            var result = command.ExecuteScalar();
            return result is DBNull ? null : result;
        }
    }

    internal void Execute(string sql, SqliteTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Transaction = tx;
            foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Runs <paramref name="body"/> in one IMMEDIATE transaction (taking the write lock up front, so
    /// concurrent writers queue on the busy timeout rather than deadlock); rolls back on any exception.</summary>
    internal T InTransaction<T>(Func<SqliteTransaction, T> body)
    {
        lock (gate)
        {
            using var tx = connection.BeginTransaction(deferred: false);
            try
            {
                var result = body(tx);
                tx.Commit();
                return result;
            }
            catch
            {
                tx.Rollback();
                throw;
            }
        }
    }

    internal void InTransaction(Action<SqliteTransaction> body) => InTransaction(tx => { body(tx); return 0; });

    public void Dispose() => connection.Dispose();
}
