using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace EdgeLlm.Profiling.Phone;

/// <summary>
/// Reads MLC-LLM's throughput reports from what its tools print, and from logcat captures around them:
/// <list type="bullet">
/// <item>the stats text "prefill: 12.3 tok/s, decode: 4.5 tok/s" (CLI <c>/stats</c>, with "N/A" for a
/// missing figure; the Android app's label, which leaves a missing part out; the older C++ runtime's
/// runtime_stats_text);</item>
/// <item>the usage JSON of a finished request, {"prompt_tokens", "completion_tokens", "total_tokens",
/// "extra": {"prefill_tokens_per_s", "decode_tokens_per_s", "end_to_end_latency_s", ...}}, or the
/// "extra" metrics object alone.</item>
/// </list>
/// A line that mentions tok/s or tokens_per_s but does not parse is an error quoting it; other lines
/// (chat text, other apps' logcat lines) are skipped.
/// </summary>
public static partial class MlcLogParser
{
    [GeneratedRegex(@"^\s*(?:prefill: (?<p>N/A|\d+(?:\.\d+)?) tok/s)?(?:, )?(?:decode: (?<d>N/A|\d+(?:\.\d+)?) tok/s)?\s*$")]
    private static partial Regex StatsText();

    // logcat -v threadtime: "07-23 10:15:02.123  4242  4260 I TAG: message"
    [GeneratedRegex(@"^(?<date>\d\d-\d\d) (?<time>\d\d:\d\d:\d\d\.\d{3})\s+\d+\s+\d+\s+[VDIWEFA]\s+[^:]*?\s*: ?(?<msg>.*)$")]
    private static partial Regex LogcatThreadtime();

    // logcat -v brief: "I/TAG( 4242): message"
    [GeneratedRegex(@"^[VDIWEFA]/[^(]*\(\s*\d+\): ?(?<msg>.*)$")]
    private static partial Regex LogcatBrief();

    public static IReadOnlyList<PhoneReading> ParseText(IEnumerable<string> lines, string file)
    {
        var readings = new List<PhoneReading>();
        int number = 0;
        foreach (var raw in lines)
        {
            number++;
            string message = raw.TrimEnd('\r');
            string? loggedAt = null, format = "mlc-stats-text";
            if (LogcatThreadtime().Match(message) is { Success: true } lc)
            {
                message = lc.Groups["msg"].Value;
                loggedAt = $"{lc.Groups["date"].Value} {lc.Groups["time"].Value}";
            }
            else if (LogcatBrief().Match(message) is { Success: true } lb)
                message = lb.Groups["msg"].Value;

            int brace = message.IndexOf('{');
            if (brace >= 0 && message.Contains("tokens_per_s"))
            {
                format = "mlc-usage-json";
                var node = ParseJson(message[brace..], file, number, raw);
                readings.Add(FromJson(node, number, format, file, raw) with { LoggedAt = loggedAt });
            }
            else if (message.Contains("tok/s"))
            {
                int start = message.IndexOf("prefill:", StringComparison.Ordinal) is >= 0 and var p ? p : message.IndexOf("decode:", StringComparison.Ordinal);
                var m = start >= 0 ? StatsText().Match(message[start..]) : Match.Empty;
                if (!m.Success || (!m.Groups["p"].Success && !m.Groups["d"].Success))
                    throw new PhoneLogFormatException(file, number, raw, "mentions tok/s but is not MLC-LLM's \"prefill: X tok/s, decode: Y tok/s\"");
                var reading = new PhoneReading(number, format)
                {
                    PrefillTokensPerSecond = Rate(m.Groups["p"]), DecodeTokensPerSecond = Rate(m.Groups["d"]), LoggedAt = loggedAt,
                };
                // "N/A" for both: the CLI had no finished request yet; nothing was measured.
                if (reading.PrefillTokensPerSecond is not null || reading.DecodeTokensPerSecond is not null) readings.Add(reading);
            }
        }
        return readings;
    }

    private static double? Rate(Group g) =>
        g.Success && g.Value != "N/A" ? double.Parse(g.Value, CultureInfo.InvariantCulture) : null;

    internal static JsonObject ParseJson(string text, string file, int line, string raw)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new PhoneLogFormatException(file, line, raw, "JSON here is not an object");
        }
        catch (JsonException e) { throw new PhoneLogFormatException(file, line, raw, $"not valid JSON ({e.Message})"); }
    }

    /// <summary>An MLC usage object ({..., "extra": {...}}) or a bare metrics object; harness keys are the same names.</summary>
    internal static PhoneReading FromJson(JsonObject o, int line, string format, string file, string raw)
    {
        var m = o["extra"] as JsonObject ?? o;
        var reading = new PhoneReading(line, format)
        {
            PrefillTokensPerSecond = Number(m, "prefill_tokens_per_s", file, line, raw),
            DecodeTokensPerSecond = Number(m, "decode_tokens_per_s", file, line, raw),
            PromptTokens = (int?)(Number(o, "prompt_tokens", file, line, raw) ?? Number(m, "prompt_tokens", file, line, raw)),
            CompletionTokens = (int?)(Number(o, "completion_tokens", file, line, raw) ?? Number(m, "completion_tokens", file, line, raw)),
            PrefillTokens = (int?)Number(m, "prefill_tokens", file, line, raw),
            DecodeTokens = (int?)Number(m, "decode_tokens", file, line, raw),
            EndToEndSeconds = Number(m, "end_to_end_latency_s", file, line, raw),
            TpotMs = Number(o, "tpot_ms", file, line, raw),
            Model = Text(o, "model"), Device = Text(o, "device"), RunId = Text(o, "run"), LoggedAt = Text(o, "timestamp"),
        };
        if (reading.PrefillTokensPerSecond is null && reading.DecodeTokensPerSecond is null && reading.TpotMs is null && reading.EndToEndSeconds is null)
            throw new PhoneLogFormatException(file, line, raw, "JSON has none of prefill_tokens_per_s, decode_tokens_per_s, end_to_end_latency_s, tpot_ms");
        return reading;
    }

    private static double? Number(JsonObject o, string key, string file, int line, string raw)
    {
        if (!o.TryGetPropertyValue(key, out var node) || node is null) return null;
        if (node is JsonValue v && v.TryGetValue<double>(out var d))
            return double.IsFinite(d) && d >= 0 ? d : throw new PhoneLogFormatException(file, line, raw, $"\"{key}\" is {d}, not a finite non-negative number");
        throw new PhoneLogFormatException(file, line, raw, $"\"{key}\" is not a number");
    }

    private static string? Text(JsonObject o, string key) => o[key] is JsonValue v ? v.ToString() : null;
}
