using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Profiling.Phone;

/// <summary>
/// Phone measurements as JSON lines (one snake_case record a line), the interchange a later results
/// database ingests. Appending rewrites the file through a temporary name, so a reader never sees a
/// half-written line.
/// </summary>
public static class PhoneMeasurementStore
{
    public const string DefaultPath = "results/phone-measurements.jsonl";

    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void Append(string path, IEnumerable<PhoneMeasurement> records)
    {
        var existing = File.Exists(path) ? File.ReadAllText(path) : "";
        var sb = new StringBuilder(existing);
        if (sb.Length > 0 && sb[^1] != '\n') sb.Append('\n');
        foreach (var r in records) sb.Append(JsonSerializer.Serialize(r, Json)).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    public static IReadOnlyList<PhoneMeasurement> Read(string path)
    {
        var list = new List<PhoneMeasurement>();
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try { list.Add(JsonSerializer.Deserialize<PhoneMeasurement>(line, Json) ?? throw new JsonException("null")); }
            catch (JsonException e) { throw new PhoneLogFormatException(path, number, line, $"not a phone measurement record ({e.Message})"); }
        }
        return list;
    }
}
