using EdgeLlm.Inference;
using EdgeLlm.Inference.Backends.Cuda;

namespace EdgeLlm.Profiling;

/// <summary>
/// One measured run for checking the memory model: peak resident memory while generating to a context length, and on a
/// GPU (<see cref="DeviceMemory"/>) the engine allocator's peak and the driver's free memory at it. <see cref="PredictedBytes"/> is the
/// whole prediction on <see cref="Runtime"/>; <see cref="PredictedOverMeasured"/> compares like with like: on the CPU the total
/// with the peak RSS, on a GPU the predicted allocations (the total less the overhead outside the allocator) with the allocator's peak.
/// </summary>
public sealed record MemoryProbeResult(string Model, int Layers, int Context, long BaselineRssBytes, long PeakRssBytes,
    long SampledPeakRssBytes, bool KernelPeakReset, long WeightBytes, long PredictedBytes, double PredictedOverMeasured,
    string Device = "cpu", string Runtime = "edgellm-cpu", DeviceMemoryCheck? DeviceMemory = null);

public static class MemoryProbe
{
    /// <summary>
    /// Meant for a fresh process (so nothing else inflates the peak): notes the resident set before the
    /// model opens, then fills the context with one prompt of context − <paramref name="newTokens"/>
    /// tokens and greedy decoding, sampling RSS throughout; the kernel's VmHWM is reset first where allowed.
    /// With <paramref name="device"/> a GPU the model runs there (the fused engine's greedy path where it knows the family,
    /// the backend otherwise) and the prediction is for that engine's layout.
    /// </summary>
    public static MemoryProbeResult Measure(string directory, int context, int newTokens = 8, DeviceSelection? device = null,
        CancellationToken cancellationToken = default)
    {
        if (context <= newTokens) throw new ArgumentException($"--contexts: {context} leaves no prompt before the {newTokens} generated tokens.");
        device ??= DeviceSelection.Cpu;
        long baseline = ProcessMemory.ResidentBytes;
        bool reset = ProcessMemory.ResetPeak();
        using var sampler = new RssSampler();
        using var model = CausalLM.Load(directory, new EngineOptions { Device = device });
        var c = model.Config;
        var rng = new Random(1);
        var prompt = Enumerable.Range(0, context - newTokens).Select(_ => rng.Next(c.VocabSize)).ToArray();
        new Generator(model).Greedy(prompt, new GenerationOptions { MaxNewTokens = newTokens, StopAtEos = false }, cancellationToken);
        long sampled = sampler.Stop();
        long peak = Math.Max(sampled, reset ? ProcessMemory.PeakResidentBytes : 0);
        string name = Path.GetFileName(Path.GetFullPath(directory));
        long weights = model.Checkpoint.WeightBytes;
        if (model.Device is not { } gpu)
        {
            var predicted = MemoryModel.Predict(c, new MemoryScenario { Context = context, WeightBytes = weights });
            return new MemoryProbeResult(name, c.NumLayers, context, baseline, peak, sampled, reset, weights, predicted.TotalBytes,
                (double)predicted.TotalBytes / peak);
        }
        var runtime = model.Cuda != null ? RuntimeProfile.EdgeLlmCudaGreedy : RuntimeProfile.EdgeLlmCuda;
        var prediction = MemoryModel.Predict(c, new MemoryScenario
        {
            Context = context, StepRows = prompt.Length, Runtime = runtime, WeightBytes = weights, WeightDType = CudaBatchBenchmark.MatrixDType(model),
        });
        var check = DeviceMemoryCheck.Measure(gpu, prediction);
        return new MemoryProbeResult(name, c.NumLayers, context, baseline, peak, sampled, reset, weights, prediction.TotalBytes,
            check.PredictedOverMeasured, gpu.Describe(device), runtime.Name, check);
    }
}
