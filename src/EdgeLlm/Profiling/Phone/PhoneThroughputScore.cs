namespace EdgeLlm.Profiling.Phone;

/// <summary>
/// The challenge's phone throughput score of one run: the mean of MLC-LLM's prefill tok/s and decode tok/s.
/// Measurements are grouped by prompt length (prompt_tokens where the log gives it; a stats line without
/// counts is its own group); each group's runs are averaged first, so a length measured more often does
/// not weigh more, then prefill and decode are each averaged over the lengths and the score is their mean.
/// Only measurements with both rates count; a run with none is an error.
/// </summary>
public sealed record PhoneThroughputScore(double Score, double MeanPrefillTokensPerSecond, double MeanDecodeTokensPerSecond,
    int PromptLengths, int Measurements)
{
    public const string Definition =
        "challenge throughput score = (mean prefill tok/s + mean decode tok/s) / 2, each averaged over the prompt lengths (runs of one length averaged first)";

    public static PhoneThroughputScore Compute(IReadOnlyList<PhoneMeasurement> records)
    {
        var usable = records.Where(r => r.PrefillTokensPerSecond is not null && r.DecodeTokensPerSecond is not null).ToList();
        if (usable.Count == 0)
            throw new ArgumentException(records.Count == 0
                ? "no phone measurements to score"
                : $"{records[0].SourceFile}: no measurement with both a prefill and a decode rate, so no throughput score (the challenge's score is their mean)");
        var groups = usable
            .GroupBy(r => r.PromptTokens is { } n ? $"len:{n}" : $"line:{r.SourceFile}:{r.SourceLine}")
            .Select(g => (Prefill: g.Average(r => r.PrefillTokensPerSecond!.Value), Decode: g.Average(r => r.DecodeTokensPerSecond!.Value)))
            .ToList();
        double prefill = groups.Average(g => g.Prefill), decode = groups.Average(g => g.Decode);
        return new PhoneThroughputScore((prefill + decode) / 2, prefill, decode, groups.Count, usable.Count);
    }

    /// <summary>Scores each run (by run id) that has at least one measurement with both rates.</summary>
    public static IReadOnlyDictionary<string, PhoneThroughputScore> ByRun(IReadOnlyList<PhoneMeasurement> records) =>
        records.GroupBy(r => r.RunId)
            .Where(g => g.Any(r => r.PrefillTokensPerSecond is not null && r.DecodeTokensPerSecond is not null))
            .ToDictionary(g => g.Key, g => Compute(g.ToList()));

    /// <summary>The records with <see cref="PhoneMeasurement.ThroughputScore"/> set to their run's score (null where the run has none).</summary>
    public static IReadOnlyList<PhoneMeasurement> Attach(IReadOnlyList<PhoneMeasurement> records)
    {
        var scores = ByRun(records);
        return records.Select(r => r with { ThroughputScore = scores.TryGetValue(r.RunId, out var s) ? s.Score : null }).ToList();
    }

    /// <summary>The score of run <paramref name="runId"/> in a phone-measurement JSON-lines file (what <c>phone import</c> appends to).</summary>
    public static PhoneThroughputScore ForRun(string jsonlPath, string runId)
    {
        if (!File.Exists(jsonlPath)) throw new FileNotFoundException($"{jsonlPath}: no such phone-measurement file.", jsonlPath);
        var records = PhoneMeasurementStore.Read(jsonlPath).Where(r => r.RunId == runId).ToList();
        if (records.Count == 0) throw new ArgumentException($"{jsonlPath}: no phone measurements with run id '{runId}'");
        return Compute(records);
    }
}
