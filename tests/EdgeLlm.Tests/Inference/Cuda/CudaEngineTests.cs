using EdgeLlm.Inference;
using EdgeLlm.Inference.Backends.Cuda;
using EdgeLlm.Inference.Kernels;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Inference.Cuda;

/// <summary>
/// The CUDA backend (every forward) and the fused engine (batch-1 greedy) against transformers' references and the CPU
/// engine, many sequences per step against each alone, and the weights resident once (CudaSelfTest holds the checks and
/// their limits; <c>edgellm gpu-selftest</c> runs the same ones on a GPU machine without the SDK).
/// </summary>
public class CudaEngineTests
{
    [CudaTheory]
    [MemberData(nameof(ReferenceOutputsTests.Fixtures), MemberType = typeof(ReferenceOutputsTests))]
    public void FixtureAgreesWithTransformersAndTheCpuEngine(string fixture)
    {
        var checks = CudaSelfTest.Fixture(SharedData.Path("fixtures", "hf-tiny", fixture), new DeviceSelection(true, 0));
        var failed = checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Value:G4} > {c.Limit:G3} {c.Detail}").ToList();
        Assert.True(failed.Count == 0, string.Join("\n", failed));
    }

    /// <summary>Mistral runs on the CUDA backend alone (the fused engine does not know it): sliding window past 16 tokens.</summary>
    [CudaTheory]
    [InlineData("mistral-float32")]
    [InlineData("mistral-bfloat16")]
    public void MistralReferenceAgreesWithTransformersAndTheCpuEngine(string reference)
    {
        var checks = CudaSelfTest.Fixture(SharedData.Reference(reference), new DeviceSelection(true, 0));
        var failed = checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Value:G4} > {c.Limit:G3} {c.Detail}").ToList();
        Assert.True(failed.Count == 0, string.Join("\n", failed));
    }

    [CudaFact]
    public void TrainedFixturePerplexityMatchesTheCpuEngine()
    {
        var checks = CudaSelfTest.Perplexity(SharedData.Path("fixtures", "trained", "llama-pydoc"), new DeviceSelection(true, 0));
        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Value:G4} > {c.Limit:G3} {c.Detail}"));
    }

    [CudaFact]
    public void AMissingDeviceIsRefusedNamingTheDevicesSeen()
    {
        var check = CudaSelfTest.MissingDevice(SharedData.Path("fixtures", "hf-tiny", "llama-float16"));
        Assert.True(check.Passed, check.Detail);
    }

    [NoCudaFact]
    public void WithoutADriverTheCommandFailsWithOneLine()
    {
        var r = CliRunner.Run("score", SharedData.Path("fixtures", "hf-tiny", "llama-float16"), "--ids", "1,2,3", "--device", "cuda");
        Assert.Equal(1, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("no CUDA", lines[0]);
    }

    [Theory]
    [InlineData("cpu", false, 0)]
    [InlineData("cuda", true, 0)]
    [InlineData("CUDA:3", true, 3)]
    public void DeviceNamesParse(string text, bool cuda, int ordinal) =>
        Assert.Equal(new DeviceSelection(cuda, ordinal), DeviceSelection.Parse(text));

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    public void BadDeviceNamesAreRefused(string text) =>
        Assert.Contains(text, Assert.Throws<ArgumentException>(() => DeviceSelection.Parse(text)).Message);

    /// <summary>
    /// The device layout puts rotary pair (i, i + rot/2) of each head into rows (2i, 2i+1); the kernels
    /// undo it (rotary_source). Rotating the permuted pairs and scattering them back must equal the CPU
    /// engine's RotaryEmbedding on the original order, for full and partial rotary.
    /// </summary>
    [Theory]
    [InlineData(32, 32)]
    [InlineData(80, 32)]
    [InlineData(32, 12)]
    public void RotaryPairLayoutReproducesTheCpuRotation(int headDim, int rot)
    {
        var rope = new RotaryEmbedding(rot, 10000.0);
        var random = new Random(headDim * 100 + rot);
        var vector = Enumerable.Range(0, 2 * headDim).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray();
        var expected = (float[])vector.Clone();
        rope.Apply(expected, 2, headDim, position: 37);

        var permuted = Enumerable.Range(0, 2 * headDim).Select(p => vector[p / headDim * headDim + CudaWeights.RotarySource(p % headDim, rot)]).ToArray();
        Assert.Equal(2 * headDim, Enumerable.Range(0, 2 * headDim).Select(p => p / headDim * headDim + CudaWeights.RotarySource(p % headDim, rot)).Distinct().Count());
        var result = new float[2 * headDim];
        var inv = rope.InverseFrequencies.ToArray();
        for (int p = 0; p < 2 * headDim; p += 2)
        {
            int head = p / headDim, c = p % headDim;
            float a = permuted[p], b = permuted[p + 1];
            int o0 = c < rot ? c / 2 : c, o1 = c < rot ? c / 2 + rot / 2 : c + 1;
            if (c < rot)
            {
                float angle = 37 * inv[c / 2], cos = MathF.Cos(angle), sin = MathF.Sin(angle);
                (a, b) = (a * cos - b * sin, b * cos + a * sin);
            }
            result[head * headDim + o0] = a;
            result[head * headDim + o1] = b;
        }
        Assert.Equal(expected, result);
    }

    [NvrtcFact]
    public void KernelsCompileThroughNvrtc()
    {
        var cubin = CudaKernels.Compile("sm_80", out var note);
        Assert.True(cubin.Length > 10_000, note);
    }
}
