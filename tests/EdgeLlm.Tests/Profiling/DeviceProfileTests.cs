using EdgeLlm.Profiling;

namespace EdgeLlm.Tests.Profiling;

public class DeviceProfileTests
{
    [Fact]
    public void ChallengePhoneIsShipped()
    {
        var p = DeviceProfile.Resolve("phone-12gb");
        Assert.Equal(12L * 1024 * 1024 * 1024, p.DramBytes);
        Assert.Equal(68.3, p.BandwidthGBps); // 8533 MT/s · 8 B
        Assert.Contains("phone-12gb", DeviceProfile.BuiltIn);
    }

    [Fact]
    public void ThroughputPhoneIsShipped()
    {
        var p = DeviceProfile.Resolve("huawei-mate-60-pro-plus");
        Assert.Equal(16L * 1024 * 1024 * 1024, p.DramBytes);
        Assert.Equal(9L * 1024 * 1024 * 1024, p.UsableBytes); // the kit's "~9 GB usable"
        Assert.Equal(51.2, p.BandwidthGBps); // LPDDR5-6400 · 8 B (an assumption, stated in notes)
        Assert.Contains("starting-kit", p.Notes, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ProfileFileIsReadAndCheckedWithItsNameInErrors()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        try
        {
            var good = Path.Combine(dir, "mine.json");
            File.WriteAllText(good, """{"name":"mine","display_name":"Mine","dram_bytes":100,"usable_bytes":80,"bandwidth_gbps":10}""");
            Assert.Equal(80, DeviceProfile.Resolve(good).UsableBytes);
            var bad = Path.Combine(dir, "bad.json");
            File.WriteAllText(bad, """{"name":"bad","display_name":"Bad","dram_bytes":100,"usable_bytes":200,"bandwidth_gbps":10}""");
            var e = Assert.Throws<FormatException>(() => DeviceProfile.Resolve(bad));
            Assert.Contains(bad, e.Message);
            Assert.Contains("usable_bytes (200)", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void UnknownNameListsTheKnownOnes() =>
        Assert.Contains("phone-12gb", Assert.Throws<ArgumentException>(() => DeviceProfile.Resolve("no-such-phone")).Message);
}
