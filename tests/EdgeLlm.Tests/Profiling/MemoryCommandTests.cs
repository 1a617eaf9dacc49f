using EdgeLlm.Tests.Inference.Cuda;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Profiling;

/// <summary><c>memory</c>'s --device: a device profile for a prediction, the engine to measure on with --measure.</summary>
public class MemoryCommandTests
{
    private static string OneErrorLine(CliRunner.Result r)
    {
        Assert.Equal(1, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        return lines[0];
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:1")]
    [InlineData("cpu")]
    public void AnEngineWithoutMeasureIsRefused(string device)
    {
        var line = OneErrorLine(CliRunner.Run("memory", "phi-2", "--device", device));
        Assert.Contains($"--device '{device}' names an engine, which only --measure runs on", line);
    }

    [Fact]
    public void AProfileWithMeasureIsRefused()
    {
        var line = OneErrorLine(CliRunner.Run("memory", "--measure", "--device", "phone-12gb"));
        Assert.Contains("--device 'phone-12gb' with --measure: expected the engine to measure on, cpu, cuda or cuda:N", line);
    }

    [Fact]
    public void AMalformedCudaOrdinalIsRefused()
    {
        var line = OneErrorLine(CliRunner.Run("memory", "--measure", "--device", "cuda:x"));
        Assert.Contains("--device 'cuda:x': expected cpu, cuda or cuda:N", line);
    }

    [Fact]
    public void APredictionStillDefaultsToThe12GbPhone()
    {
        var r = CliRunner.Run("memory", "phi-2", "--context", "2048", "--json");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("phone-12gb", r.Json.GetProperty("fit").GetProperty("device").GetString());
    }

    /// <summary>The parent reads each probe's result back from the child's JSON (snake case, as the CLI writes it).</summary>
    [Fact]
    public void ACudaProbesResultSurvivesItsJson()
    {
        var options = new System.Text.Json.JsonSerializerOptions
        {
            PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        var config = EdgeLlm.Checkpoints.ModelConfig.Load(SharedData.Path("fixtures", "hf-tiny", "phi-float16", "config.json"));
        var prediction = EdgeLlm.Profiling.MemoryModel.Predict(config, new EdgeLlm.Profiling.MemoryScenario
            { Context = 128, StepRows = 120, Runtime = EdgeLlm.Profiling.RuntimeProfile.EdgeLlmCudaGreedy, WeightBytes = 1_700_000 });
        var check = new EdgeLlm.Profiling.DeviceMemoryCheck(36_000_000, 140_000_000_000, 150_000_000_000, prediction);
        var result = new EdgeLlm.Profiling.MemoryProbeResult("phi-float16", 3, 128, 1, 2, 2, true, 1_700_000, prediction.TotalBytes,
            check.PredictedOverMeasured, "cuda:0 (GPU)", "edgellm-cuda-greedy", check);
        var text = System.Text.Json.JsonSerializer.Serialize(result, options);
        Assert.Contains("\"outside_allocator_bytes\":", text);
        var back = System.Text.Json.JsonSerializer.Deserialize<EdgeLlm.Profiling.MemoryProbeResult>(text, options)!;
        Assert.Equal(result with { DeviceMemory = null }, back with { DeviceMemory = null });
        Assert.Equal(check, back.DeviceMemory);
        Assert.Equal(10_000_000_000 - 36_000_000, back.DeviceMemory!.OutsideAllocatorBytes);
    }

    [NoCudaFact]
    public void MeasuringOnCudaWithoutADriverFailsWithOneLine()
    {
        var line = OneErrorLine(CliRunner.Run("memory", "--measure", "--device", "cuda", "--layers", "1", "--contexts", "64"));
        Assert.Contains("no CUDA", line);
    }
}
