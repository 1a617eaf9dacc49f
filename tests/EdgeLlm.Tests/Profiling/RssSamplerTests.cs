using EdgeLlm.Profiling;

namespace EdgeLlm.Tests.Profiling;

public class RssSamplerTests
{
    [Fact]
    public void PeakIncludesMemoryTouchedWhileSampling()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var sampler = new RssSampler(TimeSpan.FromMilliseconds(2));
        long before = ProcessMemory.ResidentBytes;
        var block = new byte[256 << 20];
        for (int i = 0; i < block.Length; i += 4096) block[i] = 1; // make every page resident
        int seen = sampler.Samples;
        SpinWait.SpinUntil(() => sampler.Samples >= seen + 2);
        GC.KeepAlive(block);
        long peak = sampler.Stop();
        Assert.True(peak >= before + (200L << 20), $"peak {peak} should exceed {before} by the 256 MiB block");
        Assert.True(sampler.Samples >= 2);
    }
}
