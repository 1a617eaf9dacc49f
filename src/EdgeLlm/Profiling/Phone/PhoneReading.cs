namespace EdgeLlm.Profiling.Phone;

/// <summary>The figures one log entry gives, before they are tagged with model, device and run.</summary>
public sealed record PhoneReading(int Line, string Format)
{
    public double? PrefillTokensPerSecond { get; init; }
    public double? DecodeTokensPerSecond { get; init; }
    public int? PromptTokens { get; init; }
    public int? CompletionTokens { get; init; }
    /// <summary>MLC-LLM's own counts: prefill_tokens (prompt less any cached prefix) and decode_tokens.</summary>
    public int? PrefillTokens { get; init; }
    public int? DecodeTokens { get; init; }
    public double? EndToEndSeconds { get; init; }
    public double? TpotMs { get; init; }
    public string? LoggedAt { get; init; }
    public string? Model { get; init; }
    public string? Device { get; init; }
    public string? RunId { get; init; }

    /// <summary>The challenge's TPOT (whole response time ÷ generated tokens) where the entry allows it, else decode-only.</summary>
    public (double? Ms, string? Basis) Tpot()
    {
        if (TpotMs is { } reported) return (reported, TpotBasis.Reported);
        if (EndToEndSeconds is { } e2e && CompletionTokens is > 0)
            return (e2e * 1000 / CompletionTokens.Value, TpotBasis.EndToEnd);
        if (PrefillTokensPerSecond is > 0 && DecodeTokensPerSecond is > 0 && CompletionTokens is > 0 && (PrefillTokens ?? PromptTokens) is { } pre)
        {
            int decode = DecodeTokens ?? CompletionTokens.Value - 1;
            double seconds = pre / PrefillTokensPerSecond.Value + decode / DecodeTokensPerSecond.Value;
            return (seconds * 1000 / CompletionTokens.Value, TpotBasis.FromRates);
        }
        if (DecodeTokensPerSecond is > 0) return (1000 / DecodeTokensPerSecond.Value, TpotBasis.DecodeOnly);
        return (null, null);
    }
}
