using EdgeLlm.Inference.Backends.Cuda;

namespace EdgeLlm.Evaluation.Distributed;

/// <summary>
/// <c>--devices 0,1,3</c> or <c>--devices all</c>: the CUDA devices to give one worker each, checked
/// against the devices the driver reports.
/// </summary>
public static class WorkerDevices
{
    /// <summary>The device ids, distinct and in the order given; one clear error for anything else.</summary>
    public static IReadOnlyList<string> Parse(string text, int available)
    {
        if (available <= 0)
            throw new NotSupportedException("--devices: no CUDA device on this machine (the CUDA driver, libcuda.so.1, is missing or reports none); use --workers N for CPU workers.");
        if (text.Trim() == "all") return Enumerable.Range(0, available).Select(i => i.ToString()).ToList();
        var ids = new List<string>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, null, out var id))
                throw new FormatException($"--devices: '{part}' is not a device number (give 0,1,... or all).");
            if (id >= available)
                throw new ArgumentException($"--devices: device {id} does not exist; this machine has {available} CUDA device(s), 0..{available - 1}.");
            if (ids.Contains(part)) throw new ArgumentException($"--devices: device {id} is listed twice.");
            ids.Add(id.ToString());
        }
        return ids;
    }

    /// <summary>How many CUDA devices the driver reports (0 without a driver). Honours CUDA_VISIBLE_DEVICES as the driver does.</summary>
    public static int CudaDeviceCount()
    {
        try { return CudaDevice.List().Count; }
        catch (CudaUnavailableException) { return 0; }
    }
}
