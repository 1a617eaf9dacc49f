using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeLlm.Profiling;

/// <summary>A target device as data (data/devices/*.json): its DRAM, what inference may use of it, and its memory bandwidth.</summary>
public sealed record DeviceProfile(string Name, string DisplayName, long DramBytes, long UsableBytes,
    [property: JsonPropertyName("bandwidth_gbps")] double BandwidthGBps, string Notes = "")
{
    private const string Prefix = "EdgeLlm.devices.";
    private static readonly JsonSerializerOptions json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The profiles shipped in data/devices (embedded in the library).</summary>
    public static IReadOnlyList<string> BuiltIn { get; } = typeof(DeviceProfile).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix) && n.EndsWith(".json")).Select(n => n[Prefix.Length..^5]).Order().ToList();

    /// <summary>A built-in profile by name, or a profile file when <paramref name="nameOrPath"/> is a path to one.</summary>
    public static DeviceProfile Resolve(string nameOrPath)
    {
        if (File.Exists(nameOrPath)) return Parse(File.ReadAllText(nameOrPath), nameOrPath);
        using var stream = typeof(DeviceProfile).Assembly.GetManifestResourceStream(Prefix + nameOrPath + ".json")
            ?? throw new ArgumentException($"Unknown device '{nameOrPath}': neither a file nor a built-in profile ({string.Join(", ", BuiltIn)}).");
        return Parse(new StreamReader(stream).ReadToEnd(), $"data/devices/{nameOrPath}.json");
    }

    public static DeviceProfile Parse(string text, string source)
    {
        DeviceProfile? p;
        try { p = JsonSerializer.Deserialize<DeviceProfile>(text, json); }
        catch (JsonException e) { throw new FormatException($"{source}: not a device profile: {e.Message}", e); }
        if (p == null || string.IsNullOrWhiteSpace(p.Name)) throw new FormatException($"{source}: device profile has no \"name\".");
        if (p.DramBytes <= 0 || p.UsableBytes <= 0 || p.UsableBytes > p.DramBytes)
            throw new FormatException($"{source}: needs 0 < usable_bytes ({p.UsableBytes}) <= dram_bytes ({p.DramBytes}).");
        if (p.BandwidthGBps <= 0) throw new FormatException($"{source}: bandwidth_gbps must be positive, got {p.BandwidthGBps}.");
        return p;
    }
}
