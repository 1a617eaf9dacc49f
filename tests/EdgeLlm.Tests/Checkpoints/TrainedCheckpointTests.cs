using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Tests.Support;
using Xunit.Abstractions;
using static EdgeLlm.Tests.Checkpoints.TestFiles;

namespace EdgeLlm.Tests.Checkpoints;

/// <summary>The sharded FP16 trained checkpoint against the per-window NLL transformers computed in float32.</summary>
public class TrainedCheckpointTests(ITestOutputHelper output)
{
    [Fact]
    public void ShardedCheckpointOpensAsFourFp16Shards()
    {
        using var ckpt = Checkpoint.Open(Trained);
        Assert.Equal(4, ckpt.Files.Count);
        Assert.Equal(DType.F16, ckpt.DType);
        Assert.Equal(10_096_896, ckpt.ParameterCount);
        Assert.Equal(8, ckpt.Config.NumLayers);
        Assert.Equal(4, ckpt.Config.NumKvHeads);
    }

    [Fact]
    public void PerWindowNllAndPerplexityMatchTransformers()
    {
        using var expected = new Expected(Path.Combine(Trained, "expected-perplexity.safetensors"));
        var ids = expected.Ids("val_windows");
        var reference = expected.Floats("val_window_nll");
        Assert.Equal(64 * 256, ids.Length);
        Assert.Equal(64, reference.Length);
        var windows = Enumerable.Range(0, 64).Select(w => ids[(w * 256)..((w + 1) * 256)]).ToList();

        // Default engine options: transformers keeps rotary frequencies in float32 (see EngineOptions).
        using var model = CausalLM.Load(Trained);
        var logprobs = new Scorer(model).LogProbs(windows);
        var nll = logprobs.Select(lp => -lp.Select(v => (double)v).Average()).ToArray();

        double maxErr = 0; int worst = 0;
        for (int w = 0; w < 64; w++)
        {
            double err = Math.Abs(nll[w] - reference[w]);
            if (err > maxErr) (maxErr, worst) = (err, w);
        }
        double ppl = Math.Exp(nll.Average());
        double refPpl = double.Parse(expected.Metadata["perplexity"], System.Globalization.CultureInfo.InvariantCulture);
        output.WriteLine($"max |ΔNLL| = {maxErr:E3} (window {worst}); perplexity {ppl:F5} vs reference {refPpl:F5} " +
            $"(relative {Math.Abs(ppl / refPpl - 1):E2}); exp(mean ref NLL) = {Math.Exp(reference.Average(v => (double)v)):F5}");

        Assert.True(maxErr < 2e-3, $"window {worst}: NLL {nll[worst]} vs reference {reference[worst]} (|Δ| = {maxErr})");
        Assert.True(Math.Abs(ppl / refPpl - 1) < 1e-3, $"perplexity {ppl} vs reference {refPpl}");
    }
}
