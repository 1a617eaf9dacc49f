namespace EdgeLlm.Analysis.Store;

/// <summary>
/// The results store's tables, one migration per schema version (PRAGMA user_version). Tidy: one row per
/// observation, runs referenced by id; the v_* views join in model, method and ratio for analysis.
/// </summary>
internal static class StoreSchema
{
    public static readonly string[] Migrations =
    [
        // version 1
        """
        CREATE TABLE machines (
            id INTEGER PRIMARY KEY, host TEXT NOT NULL, os TEXT NOT NULL, cpu TEXT NOT NULL, cores INTEGER NOT NULL,
            memory_bytes INTEGER NOT NULL, read_bandwidth_gbps REAL, gemm_gflops REAL);
        CREATE TABLE models (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, architecture TEXT, parameters INTEGER, dtype TEXT);
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY, run_key TEXT NOT NULL UNIQUE, model_id INTEGER NOT NULL REFERENCES models(id),
            method TEXT NOT NULL, ratio REAL NOT NULL CHECK (ratio >= 0 AND ratio <= 1),
            parameters INTEGER, calibration TEXT, calibration_samples INTEGER, machine_id INTEGER REFERENCES machines(id),
            started_utc TEXT NOT NULL, notes TEXT);
        CREATE TABLE task_scores (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, task TEXT NOT NULL, metric TEXT NOT NULL,
            score REAL NOT NULL, samples INTEGER NOT NULL, PRIMARY KEY (run_id, task, metric));
        CREATE TABLE samples (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, task TEXT NOT NULL, sample_index INTEGER NOT NULL,
            prompt TEXT, reference TEXT, prediction TEXT, correct BOOLEAN, log_likelihood REAL,
            PRIMARY KEY (run_id, task, sample_index));
        CREATE TABLE perplexities (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, dataset TEXT NOT NULL, perplexity REAL NOT NULL,
            tokens INTEGER NOT NULL, PRIMARY KEY (run_id, dataset));
        CREATE TABLE throughput (
            id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            prompt_tokens INTEGER NOT NULL, new_tokens INTEGER NOT NULL, batch_size INTEGER NOT NULL, tpot_ms REAL NOT NULL,
            decode_tokens_per_second REAL NOT NULL, prefill_tokens_per_second REAL NOT NULL, peak_rss_bytes INTEGER, kv_cache_bytes INTEGER);
        CREATE TABLE memory (
            id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            kind TEXT NOT NULL, bytes INTEGER NOT NULL, predicted BOOLEAN NOT NULL, source TEXT);
        CREATE TABLE phone_measurements (
            id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, device TEXT NOT NULL,
            backend TEXT NOT NULL, tpot_ms REAL NOT NULL, prefill_tokens_per_second REAL, decode_tokens_per_second REAL,
            peak_memory_bytes INTEGER, prompt_tokens INTEGER, new_tokens INTEGER, log_file TEXT);
        CREATE TABLE pruned_layers (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, name TEXT NOT NULL,
            parameters_before INTEGER NOT NULL, parameters_after INTEGER NOT NULL, PRIMARY KEY (run_id, name));
        CREATE VIEW v_runs AS
            SELECT r.id AS run_id, r.run_key, m.name AS model, m.architecture, r.method, r.ratio, m.parameters AS dense_parameters,
                   r.parameters, r.calibration, r.calibration_samples, r.started_utc, mc.host, r.notes
            FROM runs r JOIN models m ON m.id = r.model_id LEFT JOIN machines mc ON mc.id = r.machine_id;
        CREATE VIEW v_task_scores AS
            SELECT v.run_id, v.model, v.method, v.ratio, v.parameters, s.task, s.metric, s.score, s.samples
            FROM task_scores s JOIN v_runs v ON v.run_id = s.run_id;
        CREATE VIEW v_perplexities AS
            SELECT v.run_id, v.model, v.method, v.ratio, v.parameters, p.dataset, p.perplexity, p.tokens
            FROM perplexities p JOIN v_runs v ON v.run_id = p.run_id;
        CREATE VIEW v_throughput AS
            SELECT v.run_id, v.model, v.method, v.ratio, v.parameters, t.prompt_tokens, t.new_tokens, t.batch_size, t.tpot_ms,
                   t.decode_tokens_per_second, t.prefill_tokens_per_second, t.peak_rss_bytes, t.kv_cache_bytes
            FROM throughput t JOIN v_runs v ON v.run_id = t.run_id;
        CREATE VIEW v_memory AS
            SELECT v.run_id, v.model, v.method, v.ratio, v.parameters, x.kind, x.bytes, x.predicted, x.source
            FROM memory x JOIN v_runs v ON v.run_id = x.run_id;
        CREATE VIEW v_phone AS
            SELECT v.run_id, v.model, v.method, v.ratio, v.parameters, p.device, p.backend, p.tpot_ms, p.prefill_tokens_per_second,
                   p.decode_tokens_per_second, p.peak_memory_bytes, p.prompt_tokens, p.new_tokens, p.log_file
            FROM phone_measurements p JOIN v_runs v ON v.run_id = p.run_id;
        """,
    ];

    public static int LatestVersion => Migrations.Length;
}
