namespace EdgeLlm.Profiling.Phone;

/// <summary>
/// One throughput measurement taken on a phone, tagged with what ran where, and where it was read
/// from (file and line) so any figure can be traced to the log it came from. Rates are tokens per
/// second as the phone's runtime printed them; <see cref="TpotMs"/> says in <see cref="TpotBasis"/>
/// how it was obtained, since a bare stats line only allows the decode-only 1000 / decode rate.
/// </summary>
public sealed record PhoneMeasurement
{
    public required string Model { get; init; }
    public required string Device { get; init; }
    public required string RunId { get; init; }
    public required string SourceFile { get; init; }
    public required int SourceLine { get; init; }
    /// <summary>mlc-stats-text, mlc-usage-json, harness-csv or harness-json.</summary>
    public required string Format { get; init; }
    public double? PrefillTokensPerSecond { get; init; }
    public double? DecodeTokensPerSecond { get; init; }
    public double? TpotMs { get; init; }
    public string? TpotBasis { get; init; }
    public int? PromptTokens { get; init; }
    public int? CompletionTokens { get; init; }
    public double? EndToEndSeconds { get; init; }
    /// <summary>
    /// The challenge's throughput score of the run this record belongs to (<see cref="PhoneThroughputScore.Definition"/>),
    /// the same on every record of the run; null when the run has no measurement with both rates.
    /// </summary>
    public double? ThroughputScore { get; init; }
    /// <summary>When the phone logged it, as written in the log (logcat has no year), if the log says.</summary>
    public string? LoggedAt { get; init; }
    public required DateTimeOffset ImportedAt { get; init; }
}

/// <summary>How TPOT was derived, stated in every record.</summary>
public static class TpotBasis
{
    public const string EndToEnd = "challenge: end_to_end_latency_s / completion_tokens";
    public const string FromRates = "challenge: (prefill_tokens / prefill rate + decode_tokens / decode rate) / completion_tokens";
    public const string DecodeOnly = "decode-only: 1000 / decode tok/s (the log gives no token counts)";
    public const string Reported = "as reported by the harness (tpot_ms)";
}
