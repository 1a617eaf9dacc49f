using System.Runtime.InteropServices;

namespace EdgeLlm.Analysis.Store;

/// <summary>The machine a run was measured on.</summary>
public sealed record MachineInfo(string Host, string Os, string Cpu, int Cores, long MemoryBytes)
{
    public double? ReadBandwidthGBps { get; init; }
    public double? GemmGflops { get; init; }

    /// <summary>This machine, described without measuring anything.</summary>
    public static MachineInfo Current() => new(
        Environment.MachineName, RuntimeInformation.OSDescription, CpuModel(), Environment.ProcessorCount,
        GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    /// <summary>Adds the measured limits of a benchmark.</summary>
    public MachineInfo With(EdgeLlm.Profiling.MachineLimits limits) =>
        this with { ReadBandwidthGBps = limits.ReadBandwidthGBps, GemmGflops = limits.Fp32GemmGflops };

    private static string CpuModel()
    {
        try
        {
            var line = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name")) : null;
            return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (IOException) { return RuntimeInformation.ProcessArchitecture.ToString(); }
    }
}
