using EdgeLlm.Inference.Backends.Cuda;

namespace EdgeLlm.Profiling;

/// <summary>
/// Peak device memory measured two ways, beside the memory model's prediction for the same run: the engine allocator's
/// high-water mark (weights, caches, scratch, workspace: what <see cref="MemoryPrediction.AllocatedBytes"/> predicts), and the
/// driver's free memory just after that peak was set, whose complement also holds the CUDA context, kernels, cuBLAS's own
/// memory and any other process on the device (what the runtime overhead stands for).
/// </summary>
public sealed record DeviceMemoryCheck(long PeakAllocatedBytes, long DeviceFreeAtPeakBytes, long DeviceTotalBytes, MemoryPrediction Prediction)
{
    public long PredictedDeviceBytes => Prediction.TotalBytes;
    public long PredictedAllocatedBytes => Prediction.AllocatedBytes;
    /// <summary>Predicted allocations ÷ the allocator's peak.</summary>
    public double PredictedOverMeasured => PeakAllocatedBytes > 0 ? (double)PredictedAllocatedBytes / PeakAllocatedBytes : double.NaN;
    /// <summary>Device memory in use by anyone when the peak was set (total − free).</summary>
    public long DriverUsedAtPeakBytes => DeviceTotalBytes - DeviceFreeAtPeakBytes;
    /// <summary>In use but not from the allocator: the measured counterpart of the runtime overhead (plus other processes).</summary>
    public long OutsideAllocatorBytes => DriverUsedAtPeakBytes - PeakAllocatedBytes;
    /// <summary>The whole prediction (overhead included) ÷ what the driver saw in use.</summary>
    public double PredictedOverDriverUsed => DriverUsedAtPeakBytes > 0 ? (double)PredictedDeviceBytes / DriverUsedAtPeakBytes : double.NaN;

    internal static DeviceMemoryCheck Measure(CudaDevice device, MemoryPrediction prediction) =>
        new(device.PeakAllocatedBytes, device.FreeAtPeakBytes, device.TotalBytes, prediction);
}
