using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeLlm.Profiling.Phone;

/// <summary>
/// Logs from a user's own harness: CSV with a header row, a JSON array of objects, or JSON lines.
/// Column / key names are MLC-LLM's metric names (prefill_tokens_per_s, decode_tokens_per_s,
/// prompt_tokens, completion_tokens, end_to_end_latency_s) plus tpot_ms, model, device, run, timestamp.
/// </summary>
public static class HarnessLogParser
{
    public static IReadOnlyList<string> CsvColumns { get; } =
    [
        "model", "device", "run", "timestamp", "prompt_tokens", "completion_tokens", "prefill_tokens", "decode_tokens",
        "prefill_tokens_per_s", "decode_tokens_per_s", "end_to_end_latency_s", "tpot_ms",
    ];

    private static readonly string[] measures = ["prefill_tokens_per_s", "decode_tokens_per_s", "end_to_end_latency_s", "tpot_ms"];

    public static IReadOnlyList<PhoneReading> ParseCsv(IReadOnlyList<string> lines, string file)
    {
        int headerIndex = lines.ToList().FindIndex(l => !string.IsNullOrWhiteSpace(l));
        if (headerIndex < 0) throw new FormatException($"{file}: empty CSV.");
        var header = lines[headerIndex].TrimEnd('\r').Split(',').Select(h => h.Trim().ToLowerInvariant()).ToArray();
        var unknown = header.Where(h => !CsvColumns.Contains(h)).ToList();
        if (unknown.Count > 0)
            throw new PhoneLogFormatException(file, headerIndex + 1, lines[headerIndex], $"unknown column(s) {string.Join(", ", unknown)} (known: {string.Join(", ", CsvColumns)})");
        if (!header.Any(measures.Contains))
            throw new PhoneLogFormatException(file, headerIndex + 1, lines[headerIndex], $"no measurement column ({string.Join(", ", measures)})");
        var readings = new List<PhoneReading>();
        for (int i = headerIndex + 1; i < lines.Count; i++)
        {
            string raw = lines[i].TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var cells = raw.Split(',');
            if (cells.Length != header.Length)
                throw new PhoneLogFormatException(file, i + 1, raw, $"has {cells.Length} fields, the header has {header.Length}");
            var row = new JsonObject();
            for (int c = 0; c < header.Length; c++)
            {
                string cell = cells[c].Trim();
                if (cell.Length == 0) continue;
                bool numeric = header[c] is not ("model" or "device" or "run" or "timestamp");
                if (!numeric) { row[header[c]] = cell; continue; }
                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                    throw new PhoneLogFormatException(file, i + 1, raw, $"{header[c]} '{cell}' is not a number");
                row[header[c]] = value;
            }
            readings.Add(MlcLogParser.FromJson(row, i + 1, "harness-csv", file, raw));
        }
        return readings;
    }

    /// <summary>A JSON array of objects, one object, or one object per line.</summary>
    public static IReadOnlyList<PhoneReading> ParseJson(string text, string file)
    {
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('['))
        {
            JsonArray array;
            try { array = JsonNode.Parse(text) as JsonArray ?? throw new FormatException($"{file}: not a JSON array."); }
            catch (JsonException e) { throw new FormatException($"{file}: not valid JSON: {e.Message}", e); }
            return array.Select((n, i) => n is JsonObject o
                ? MlcLogParser.FromJson(o, i + 1, "harness-json", file, o.ToJsonString())
                : throw new PhoneLogFormatException(file, i + 1, n?.ToJsonString() ?? "null", "array element is not an object")).ToList();
        }
        if (trimmed.StartsWith('{'))
        {
            try
            {
                if (JsonNode.Parse(text) is JsonObject whole)
                    return [MlcLogParser.FromJson(whole, 1, "harness-json", file, trimmed.Split('\n')[0])];
            }
            catch (JsonException) { } // not one object: JSON lines
        }
        var lines = text.Split('\n');
        var readings = new List<PhoneReading>();
        for (int i = 0; i < lines.Length; i++)
        {
            string raw = lines[i].TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(raw)) continue;
            if (!raw.TrimStart().StartsWith('{'))
                throw new PhoneLogFormatException(file, i + 1, raw, "not a JSON object (a JSON-lines log has one object per line)");
            readings.Add(MlcLogParser.FromJson(MlcLogParser.ParseJson(raw, file, i + 1, raw), i + 1, "harness-json", file, raw));
        }
        return readings;
    }
}
