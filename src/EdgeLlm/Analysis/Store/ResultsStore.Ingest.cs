using Microsoft.Data.Sqlite;

namespace EdgeLlm.Analysis.Store;

public sealed partial class ResultsStore
{
    /// <summary>Adds a run and everything it produced in one transaction; returns its id. Nothing is written if any part is invalid.</summary>
    public long AddRun(RunRecord record) => InTransaction(tx => Insert(record, tx));

    /// <summary>
    /// Adds a run, first removing any run with the same key (and everything it produced), in one transaction: for
    /// runs that are redone or resumed under a stable key (an evaluation folder, a phone run id). Returns the new id.
    /// </summary>
    public long AddOrReplaceRun(RunRecord record) => InTransaction(tx =>
    {
        Execute("DELETE FROM runs WHERE run_key = @key", tx, ("@key", record.Run.Key));
        return Insert(record, tx);
    });

    private long Insert(RunRecord record, SqliteTransaction tx)
    {
        var run = record.Run;
        Validate(run);
        long? machine = record.Machine is { } m ? MachineId(m, tx) : null;
        Execute("""
            INSERT INTO models (name, architecture, parameters, dtype) VALUES (@name, @arch, @params, @dtype)
            ON CONFLICT(name) DO UPDATE SET architecture = coalesce(excluded.architecture, architecture),
                parameters = coalesce(excluded.parameters, parameters), dtype = coalesce(excluded.dtype, dtype)
            """, tx, ("@name", run.Model), ("@arch", run.Architecture), ("@params", run.ParametersBefore), ("@dtype", run.DType));
        long model = (long)Scalar("SELECT id FROM models WHERE name = @name", tx, ("@name", run.Model))!;
        if (FindRunIn(run.Key, tx) is not null)
            throw new InvalidOperationException($"results store '{Path}' already has a run with key '{run.Key}'");
        Execute("""
            INSERT INTO runs (run_key, model_id, method, ratio, parameters, calibration, calibration_samples, machine_id, started_utc, notes)
            VALUES (@key, @model, @method, @ratio, @params, @cal, @calN, @machine, @started, @notes)
            """, tx, ("@key", run.Key), ("@model", model), ("@method", run.Method), ("@ratio", run.Ratio),
            ("@params", run.ParametersAfter ?? run.ParametersBefore), ("@cal", run.Calibration), ("@calN", run.CalibrationSamples),
            ("@machine", machine), ("@started", run.StartedUtc.ToUniversalTime().ToString("O")), ("@notes", run.Notes));
        long id = (long)Scalar("SELECT last_insert_rowid()", tx)!;
        WriteScores(id, record.Scores, tx);
        WriteSamples(id, record.Samples, tx);
        WritePerplexities(id, record.Perplexities, tx);
        WriteThroughput(id, record.Throughput, tx);
        WriteMemory(id, record.Memory, tx);
        WritePhone(id, record.Phone, tx);
        WriteLayers(id, record.Layers, tx);
        return id;
    }

    public void AddScores(long runId, IEnumerable<TaskScore> scores) => InTransaction(tx => { RequireRun(runId, tx); WriteScores(runId, scores, tx); });
    public void AddSamples(long runId, IEnumerable<StoredSample> samples) => InTransaction(tx => { RequireRun(runId, tx); WriteSamples(runId, samples, tx); });
    public void AddPerplexities(long runId, IEnumerable<PerplexityRecord> rows) => InTransaction(tx => { RequireRun(runId, tx); WritePerplexities(runId, rows, tx); });
    public void AddThroughput(long runId, IEnumerable<ThroughputRecord> rows) => InTransaction(tx => { RequireRun(runId, tx); WriteThroughput(runId, rows, tx); });
    public void AddMemory(long runId, IEnumerable<MemoryRecord> rows) => InTransaction(tx => { RequireRun(runId, tx); WriteMemory(runId, rows, tx); });
    public void AddPhoneMeasurements(long runId, IEnumerable<PhoneRecord> rows) => InTransaction(tx => { RequireRun(runId, tx); WritePhone(runId, rows, tx); });

    /// <summary>Adds a local benchmark as a throughput row plus its measured memory (peak RSS, KV cache, weights).</summary>
    public void AddBenchmark(long runId, EdgeLlm.Profiling.BenchmarkResult b) => InTransaction(tx =>
    {
        RequireRun(runId, tx);
        WriteThroughput(runId, [StoreAdapters.Throughput(b)], tx);
        WriteMemory(runId, StoreAdapters.Memory(b), tx);
    });

    private static void Validate(RunInfo run)
    {
        if (string.IsNullOrWhiteSpace(run.Model)) throw new ArgumentException("a run needs a model name");
        if (string.IsNullOrWhiteSpace(run.Method)) throw new ArgumentException("a run needs a method name (\"dense\" for an unpruned model)");
        if (!(run.Ratio >= 0 && run.Ratio <= 1)) throw new ArgumentException($"ratio {run.Ratio} is outside [0, 1]");
    }

    private long? FindRunIn(string key, SqliteTransaction tx) => Scalar("SELECT id FROM runs WHERE run_key = @key", tx, ("@key", key)) as long?;

    private void RequireRun(long runId, SqliteTransaction tx)
    {
        if (Scalar("SELECT id FROM runs WHERE id = @id", tx, ("@id", runId)) is null)
            throw new ArgumentException($"results store '{Path}' has no run {runId}");
    }

    private long MachineId(MachineInfo m, SqliteTransaction tx)
    {
        var existing = Scalar("""
            SELECT id FROM machines WHERE host = @h AND os = @o AND cpu = @c AND cores = @n AND memory_bytes = @m
              AND read_bandwidth_gbps IS @bw AND gemm_gflops IS @g
            """, tx, ("@h", m.Host), ("@o", m.Os), ("@c", m.Cpu), ("@n", m.Cores), ("@m", m.MemoryBytes), ("@bw", m.ReadBandwidthGBps), ("@g", m.GemmGflops));
        if (existing is long id) return id;
        Execute("INSERT INTO machines (host, os, cpu, cores, memory_bytes, read_bandwidth_gbps, gemm_gflops) VALUES (@h, @o, @c, @n, @m, @bw, @g)",
            tx, ("@h", m.Host), ("@o", m.Os), ("@c", m.Cpu), ("@n", m.Cores), ("@m", m.MemoryBytes), ("@bw", m.ReadBandwidthGBps), ("@g", m.GemmGflops));
        return (long)Scalar("SELECT last_insert_rowid()", tx)!;
    }

    private void WriteScores(long run, IEnumerable<TaskScore> rows, SqliteTransaction tx) =>
        Batch(tx, "INSERT INTO task_scores (run_id, task, metric, score, samples) VALUES (@run, @a, @b, @c, @d)", run, rows,
            r => [r.Task, r.Metric, Finite(r.Score, $"score of {r.Task}"), r.Samples]);

    private void WriteSamples(long run, IEnumerable<StoredSample> rows, SqliteTransaction tx) =>
        Batch(tx, "INSERT INTO samples (run_id, task, sample_index, prompt, reference, prediction, correct, log_likelihood) VALUES (@run, @a, @b, @c, @d, @e, @f, @g)",
            run, rows, r => [r.Task, r.Index, r.Prompt, r.Reference, r.Prediction, r.Correct, r.LogLikelihood]);

    private void WritePerplexities(long run, IEnumerable<PerplexityRecord> rows, SqliteTransaction tx) =>
        Batch(tx, "INSERT INTO perplexities (run_id, dataset, perplexity, tokens) VALUES (@run, @a, @b, @c)", run, rows,
            r => [r.Dataset, Finite(r.Perplexity, $"perplexity on {r.Dataset}"), r.Tokens]);

    private void WriteThroughput(long run, IEnumerable<ThroughputRecord> rows, SqliteTransaction tx) =>
        Batch(tx, """
            INSERT INTO throughput (run_id, prompt_tokens, new_tokens, batch_size, tpot_ms, decode_tokens_per_second, prefill_tokens_per_second, peak_rss_bytes, kv_cache_bytes)
            VALUES (@run, @a, @b, @c, @d, @e, @f, @g, @h)
            """, run, rows, r => [r.PromptTokens, r.NewTokens, r.BatchSize, Finite(r.TpotMs, "TPOT"), r.DecodeTokensPerSecond, r.PrefillTokensPerSecond, r.PeakRssBytes, r.KvCacheBytes]);

    private void WriteMemory(long run, IEnumerable<MemoryRecord> rows, SqliteTransaction tx) =>
        Batch(tx, "INSERT INTO memory (run_id, kind, bytes, predicted, source) VALUES (@run, @a, @b, @c, @d)", run, rows,
            r => [r.Kind, r.Bytes, r.Predicted, r.Source]);

    private void WritePhone(long run, IEnumerable<PhoneRecord> rows, SqliteTransaction tx) =>
        Batch(tx, """
            INSERT INTO phone_measurements (run_id, device, backend, tpot_ms, prefill_tokens_per_second, decode_tokens_per_second, peak_memory_bytes, prompt_tokens, new_tokens, log_file)
            VALUES (@run, @a, @b, @c, @d, @e, @f, @g, @h, @i)
            """, run, rows, r => [r.Device, r.Backend, Finite(r.TpotMs, "phone TPOT"), r.PrefillTokensPerSecond, r.DecodeTokensPerSecond, r.PeakMemoryBytes, r.PromptTokens, r.NewTokens, r.LogFile]);

    private void WriteLayers(long run, IEnumerable<PrunedLayer> rows, SqliteTransaction tx) =>
        Batch(tx, "INSERT INTO pruned_layers (run_id, name, parameters_before, parameters_after) VALUES (@run, @a, @b, @c)", run, rows,
            r => [r.Name, r.ParametersBefore, r.ParametersAfter]);

    private static double Finite(double v, string what) =>
        double.IsFinite(v) ? v : throw new ArgumentException($"{what} is {v}; the store keeps finite numbers only");

    /// <summary>One prepared statement for many rows (parameters @run, @a, @b, ...).</summary>
    private void Batch<T>(SqliteTransaction tx, string sql, long run, IEnumerable<T> rows, Func<T, object?[]> values)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Transaction = tx;
            command.Parameters.AddWithValue("@run", run);
            SqliteParameter[]? slots = null;
            foreach (var row in rows)
            {
                var v = values(row);
                if (slots is null)
                {
                    slots = v.Select((_, i) => command.Parameters.Add(new SqliteParameter("@" + (char)('a' + i), null))).ToArray();
                    command.Prepare();
                }
                for (int i = 0; i < v.Length; i++) slots[i].Value = v[i] ?? DBNull.Value;
                try { command.ExecuteNonQuery(); }
                catch (SqliteException e) when (e.SqliteErrorCode == 19)
                {
                    throw new InvalidOperationException($"results store '{Path}': rejected {typeof(T).Name} {row}: {e.Message}", e);
                }
            }
        }
    }
}
