using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;

namespace EdgeLlm.Profiling;

/// <summary>One measured run for checking the memory model: peak resident memory while generating to a context length.</summary>
public sealed record MemoryProbeResult(string Model, int Layers, int Context, long BaselineRssBytes, long PeakRssBytes,
    long SampledPeakRssBytes, bool KernelPeakReset, long WeightBytes, long PredictedBytes, double PredictedOverMeasured);

public static class MemoryProbe
{
    /// <summary>
    /// Meant for a fresh process (so nothing else inflates the peak): notes the resident set before the
    /// model opens, then fills the context with one prompt of context − <paramref name="newTokens"/>
    /// tokens and greedy decoding, sampling RSS throughout; the kernel's VmHWM is reset first where allowed.
    /// </summary>
    public static MemoryProbeResult Measure(string directory, int context, int newTokens = 8, CancellationToken cancellationToken = default)
    {
        long baseline = ProcessMemory.ResidentBytes;
        bool reset = ProcessMemory.ResetPeak();
        using var sampler = new RssSampler();
        using var model = CausalLM.Load(directory);
        var c = model.Config;
        var rng = new Random(1);
        var prompt = Enumerable.Range(0, context - newTokens).Select(_ => rng.Next(c.VocabSize)).ToArray();
        new Generator(model).Greedy(prompt, new GenerationOptions { MaxNewTokens = newTokens, StopAtEos = false }, cancellationToken);
        long sampled = sampler.Stop();
        long peak = Math.Max(sampled, reset ? ProcessMemory.PeakResidentBytes : 0);
        var predicted = MemoryModel.Predict(c, new MemoryScenario { Context = context, WeightBytes = model.Checkpoint.WeightBytes });
        return new MemoryProbeResult(Path.GetFileName(Path.GetFullPath(directory)), c.NumLayers, context, baseline, peak, sampled, reset,
            model.Checkpoint.WeightBytes, predicted.TotalBytes, (double)predicted.TotalBytes / peak);
    }
}
