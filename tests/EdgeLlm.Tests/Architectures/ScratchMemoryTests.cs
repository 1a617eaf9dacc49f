using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Profiling;
using EdgeLlm.Tests.Checkpoints;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Architectures;

/// <summary>
/// The memory model's activation buffers are the architecture's declared scratch buffers; the engine's real
/// allocation after a forward step of known rows must be exactly that, for every architecture.
/// </summary>
public class ScratchMemoryTests
{
    public static TheoryData<string> Models() => new() { "llama", "phi", "qwen2", "mistral", "qwen" };

    private static CausalLM Load(string name, TempDir dir) => name switch
    {
        "mistral" => CausalLM.Load(SharedData.Reference("mistral-float32")),
        "qwen" => LoadQWen(dir),
        _ => CausalLM.Load(SharedData.Path("fixtures", "hf-tiny", name + "-float32")),
    };

    private static CausalLM LoadQWen(TempDir dir)
    {
        QWenLayoutTests.BuildQWen(dir.Directory);
        return CausalLM.Load(dir.Directory);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void WorkspaceAfterAForwardStepIsWhatTheMemoryModelPredicts(string name)
    {
        using var dir = new TempDir();
        using var model = Load(name, dir);
        Assert.Equal(0, model.WorkspaceBytes);
        // Two sequences stacked: 33 + 7 rows.
        model.ForwardHidden([new Segment(model.NewCache(), Enumerable.Range(3, 33).ToArray()), new Segment(model.NewCache(), Enumerable.Range(50, 7).ToArray())]);
        Assert.Equal(MemoryModel.BlockScratchBytes(model.Config, 40, DType.F32), model.WorkspaceBytes);
        // A decode step reuses the same buffers.
        var cache = model.NewCache();
        model.Forward(cache, [5]);
        Assert.Equal(MemoryModel.BlockScratchBytes(model.Config, 40, DType.F32), model.WorkspaceBytes);
    }

    [Fact]
    public void ActivationBytesAddScoresAndLogitsToTheScratchBuffers()
    {
        var c = ModelConfig.Parse(ModelPresets.Config("phi-2"));
        // Phi-2: x, h, attn_out (3·2560) + q, k, v, attn (4·2560) + ff (10240) per row.
        Assert.Equal(16L * (7 * 2560 + 10240) * 4, MemoryModel.BlockScratchBytes(c, 16, DType.F32));
        Assert.Equal(MemoryModel.BlockScratchBytes(c, 16, DType.F32) + (4L * 2048 + 2L * c.VocabSize) * 4,
            MemoryModel.ActivationBytes(c, rows: 16, batch: 2, context: 2048, threads: 4, DType.F32));
    }
}
