namespace EdgeLlm.Profiling.Phone;

/// <summary>Turns phone logs into tagged <see cref="PhoneMeasurement"/> records, choosing the parser from the file.</summary>
public static class PhoneLogImporter
{
    /// <summary>
    /// CSV (.csv) and JSON (.json, .jsonl, or text starting with '[' / '{' that holds MLC metrics on
    /// its first line) go to the harness parser; everything else is read as MLC-LLM output or a logcat
    /// capture. A file that yields nothing is an error quoting its first line.
    /// </summary>
    public static IReadOnlyList<PhoneMeasurement> Import(string file, string model, string device, string? runId = null, DateTimeOffset? now = null)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"{file}: no such file.", file);
        var text = File.ReadAllText(file);
        var lines = text.Split('\n');
        string ext = Path.GetExtension(file).ToLowerInvariant();
        string first = lines.FirstOrDefault(l => !string.IsNullOrWhiteSpace(l))?.Trim() ?? "";
        IReadOnlyList<PhoneReading> readings =
            ext == ".csv" ? HarnessLogParser.ParseCsv(lines, file)
            : ext is ".json" or ".jsonl" || first.StartsWith('[') ? HarnessLogParser.ParseJson(text, file)
            : MlcLogParser.ParseText(lines, file);
        if (readings.Count == 0)
            throw new PhoneLogFormatException(file, 1, first, "no MLC-LLM statistics (\"prefill: X tok/s, decode: Y tok/s\" or usage JSON) in this file; first line");
        var run = runId ?? $"{(now ?? DateTimeOffset.UtcNow):yyyyMMdd'T'HHmmss'Z'}-{Path.GetFileNameWithoutExtension(file)}";
        var at = now ?? DateTimeOffset.UtcNow;
        return readings.Select(r =>
        {
            var (tpot, basis) = r.Tpot();
            return new PhoneMeasurement
            {
                Model = r.Model ?? model, Device = r.Device ?? device, RunId = r.RunId ?? run,
                SourceFile = Path.GetFullPath(file), SourceLine = r.Line, Format = r.Format,
                PrefillTokensPerSecond = r.PrefillTokensPerSecond, DecodeTokensPerSecond = r.DecodeTokensPerSecond,
                TpotMs = tpot, TpotBasis = basis, PromptTokens = r.PromptTokens, CompletionTokens = r.CompletionTokens,
                EndToEndSeconds = r.EndToEndSeconds, LoggedAt = r.LoggedAt, ImportedAt = at,
            };
        }).ToList();
    }
}
