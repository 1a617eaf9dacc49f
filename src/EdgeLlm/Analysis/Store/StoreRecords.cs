namespace EdgeLlm.Analysis.Store;

/// <summary>
/// What identifies one experiment: the model, the pruning method ("dense" for none) and its ratio (the ratio the
/// method was given, e.g. the fraction of KV groups and MLP channels removed per layer, or of layers for ShortGPT;
/// 0 for dense; the parameter counts say how much was removed overall). <see cref="Key"/> names the run across processes (a new GUID unless given);
/// adding a run with an existing key fails, so one run cannot be half-overwritten by another.
/// </summary>
public sealed record RunInfo(string Model, string Method, double Ratio)
{
    public string Key { get; init; } = Guid.NewGuid().ToString("N");
    public string? Architecture { get; init; }
    /// <summary>Parameters of the dense model.</summary>
    public long? ParametersBefore { get; init; }
    /// <summary>Parameters left after pruning (equal to <see cref="ParametersBefore"/> for dense).</summary>
    public long? ParametersAfter { get; init; }
    public string? DType { get; init; }
    /// <summary>Calibration data set, e.g. "c4".</summary>
    public string? Calibration { get; init; }
    public int? CalibrationSamples { get; init; }
    public string? Notes { get; init; }
    public DateTime StartedUtc { get; init; } = DateTime.UtcNow;
}

/// <summary>One task's score (OpenCompass-style: accuracy in [0, 1] or [0, 100] as the task reports it).</summary>
public sealed record TaskScore(string Task, string Metric, double Score, int Samples);

/// <summary>One evaluated example as the store keeps it: what was asked, the reference, the model's answer, and whether it matched
/// (made from an <see cref="EdgeLlm.Evaluation.SampleRecord"/> by <see cref="StoreAdapters.Sample"/>).</summary>
public sealed record StoredSample(string Task, int Index, string? Prompt, string? Reference, string? Prediction, bool? Correct, double? LogLikelihood = null);

/// <summary>Perplexity on a data set (e.g. wikitext2, c4) over <paramref name="Tokens"/> tokens.</summary>
public sealed record PerplexityRecord(string Dataset, double Perplexity, long Tokens);

/// <summary>A local TPOT/throughput measurement (see <see cref="EdgeLlm.Profiling.BenchmarkResult"/>).</summary>
public sealed record ThroughputRecord(int PromptTokens, int NewTokens, int BatchSize, double TpotMs,
    double DecodeTokensPerSecond, double PrefillTokensPerSecond, long? PeakRssBytes = null, long? KvCacheBytes = null);

/// <summary>A memory figure: <paramref name="Kind"/> says which (e.g. "weights", "peak_rss", "kv_cache"); <paramref name="Predicted"/> tells a model's estimate from a measurement.</summary>
public sealed record MemoryRecord(string Kind, long Bytes, bool Predicted, string? Source = null);

/// <summary>A phone measurement as the store keeps it (made from a <see cref="EdgeLlm.Profiling.Phone.PhoneMeasurement"/> by <see cref="StoreAdapters.Phone"/>).</summary>
public sealed record PhoneRecord(string Device, string Backend, double TpotMs, double? PrefillTokensPerSecond,
    double? DecodeTokensPerSecond, long? PeakMemoryBytes, string? LogFile = null, int? PromptTokens = null, int? NewTokens = null);

/// <summary>How much of one tensor or layer a pruning run kept.</summary>
public sealed record PrunedLayer(string Name, long ParametersBefore, long ParametersAfter);

/// <summary>Everything one run produced, added to the store in a single transaction.</summary>
public sealed record RunRecord(RunInfo Run)
{
    public MachineInfo? Machine { get; init; }
    public IReadOnlyList<TaskScore> Scores { get; init; } = [];
    public IReadOnlyList<StoredSample> Samples { get; init; } = [];
    public IReadOnlyList<PerplexityRecord> Perplexities { get; init; } = [];
    public IReadOnlyList<ThroughputRecord> Throughput { get; init; } = [];
    public IReadOnlyList<MemoryRecord> Memory { get; init; } = [];
    public IReadOnlyList<PhoneRecord> Phone { get; init; } = [];
    public IReadOnlyList<PrunedLayer> Layers { get; init; } = [];
}
