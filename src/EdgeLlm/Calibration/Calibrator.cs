using System.Security.Cryptography;
using EdgeLlm.Inference;

namespace EdgeLlm.Calibration;

/// <summary>How far a calibration pass has come.</summary>
public sealed record CalibrationProgress(int SamplesDone, int SamplesTotal);

/// <summary>
/// Runs calibration samples through the model once, with an observer gathering the statistics every
/// pruning method needs where the activations are (on a GPU: in device memory, read back when saved and at the end). With a state file the pass saves its sums atomically every
/// <c>saveEvery</c> samples and, when started again on the same model and samples, continues from there.
/// </summary>
public static class Calibrator
{
    public static CalibrationStatistics Run(CausalLM model, IReadOnlyList<int[]> samples, string? statePath = null, int saveEvery = 16,
        IProgress<CalibrationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (samples.Count == 0) throw new ArgumentException("No calibration samples.", nameof(samples));
        if (saveEvery <= 0) throw new ArgumentOutOfRangeException(nameof(saveEvery), saveEvery, "Must be positive.");
        string fingerprint = Fingerprint(model, samples);
        CalibrationStatistics stats;
        if (statePath != null && File.Exists(statePath))
        {
            stats = CalibrationStatistics.Load(statePath);
            if (stats.Fingerprint != fingerprint)
                throw new InvalidOperationException($"{statePath}: this calibration state belongs to another model or sample set; delete it or choose another path.");
        }
        else stats = CalibrationStatistics.For(model.Config);
        stats.Fingerprint = fingerprint;

        var previous = model.BackendObserver;
        using var collector = new StatisticsCollector(stats, model.Backend);
        model.BackendObserver = collector;
        try
        {
            for (int i = stats.SamplesDone; i < samples.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var cache = model.NewCache(samples[i].Length);
                model.ForwardHidden([new Segment(cache, samples[i])], cancellationToken);
                cache.Release(); // a GPU cache's blocks go back to the pool now, not at finalization
                stats.SamplesDone = i + 1;
                progress?.Report(new CalibrationProgress(stats.SamplesDone, samples.Count));
                if (statePath != null && (stats.SamplesDone % saveEvery == 0 || stats.SamplesDone == samples.Count))
                {
                    collector.Flush();
                    stats.Save(statePath);
                }
            }
            collector.Flush();
        }
        finally { model.BackendObserver = previous; }
        return stats;
    }

    /// <summary>Model shape plus a hash of every sample's ids.</summary>
    public static string Fingerprint(CausalLM model, IReadOnlyList<int[]> samples)
    {
        var c = model.Config;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var s in samples)
        {
            hash.AppendData(BitConverter.GetBytes(s.Length));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(s.AsSpan()));
        }
        return $"{c.ArchitectureName}/{c.NumLayers}x{c.HiddenSize}/{c.NumHeads}h{c.NumKvHeads}kv{c.HeadDim}/{c.IntermediateSize}/" +
            $"{samples.Count}x{Convert.ToHexString(hash.GetHashAndReset())[..16]}";
    }
}
