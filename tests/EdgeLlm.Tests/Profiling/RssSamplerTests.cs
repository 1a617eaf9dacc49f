using EdgeLlm.Profiling;

namespace EdgeLlm.Tests.Profiling;

/// <summary>Process-wide memory figures: run alone, or other tests' allocations and frees move the numbers.</summary>
[CollectionDefinition(nameof(ProcessMemoryCollection), DisableParallelization = true)]
public sealed class ProcessMemoryCollection;

[Collection(nameof(ProcessMemoryCollection))]
public class RssSamplerTests
{
    [Fact]
    public void PeakIncludesMemoryTouchedWhileSampling()
    {
        if (!OperatingSystem.IsLinux()) return;
        // Earlier tests' garbage, collected and decommitted while the block is held, once lowered the
        // process's RSS by more than 100 MiB in CI: collect it now and hold off collections until the end.
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        bool noGc = GC.TryStartNoGCRegion(16 << 20);
        try { Measure(); }
        finally { if (noGc && System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion) GC.EndNoGCRegion(); }
    }

    private static void Measure()
    {
        using var sampler = new RssSampler(TimeSpan.FromMilliseconds(2));
        long before = ProcessMemory.ResidentBytes;
        // Native memory: a fresh mapping whose pages become resident only when touched (a managed array could
        // reuse heap pages that earlier tests already made resident).
        const int size = 256 << 20;
        long peak;
        unsafe
        {
            byte* block = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc(size);
            try
            {
                for (int i = 0; i < size; i += 4096) block[i] = 1;
                int seen = sampler.Samples;
                SpinWait.SpinUntil(() => sampler.Samples >= seen + 2);
                peak = sampler.Stop();
            }
            finally { System.Runtime.InteropServices.NativeMemory.Free(block); }
        }
        Assert.True(peak >= before + (200L << 20), $"peak {peak} should exceed {before} by the 256 MiB block");
        Assert.True(sampler.Samples >= 2);
    }
}
