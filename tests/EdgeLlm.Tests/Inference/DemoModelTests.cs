using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Inference;

/// <summary>The shipped demo model against what transformers computed on it (data/demo-model/expected.safetensors).</summary>
public class DemoModelTests
{
    private static string Folder => Path.Combine(SharedData.RepoRoot, "data", "demo-model");

    [Fact]
    public void LogitsMatchTransformers()
    {
        using var model = CausalLM.Load(Folder);
        Assert.True(model.Config.TieWordEmbeddings);
        using var expected = new Expected(Path.Combine(Folder, "expected.safetensors"));
        var logits = model.ForwardAll(model.NewCache(), expected.Ids("ids_len64"));
        float diff = Expected.MaxAbsDiff(expected.Floats("logits_len64"), logits);
        Assert.True(diff < 1e-3f, $"max |Δlogit| = {diff}");
    }

    [Fact]
    public void ValidationPerplexityMatchesTransformers()
    {
        using var model = CausalLM.Load(Folder);
        using var expected = new Expected(Path.Combine(Folder, "expected.safetensors"));
        var windows = expected.Ids("val_windows").Chunk(256).ToList();
        var nll = expected.Floats("val_window_nll");
        var logprobs = new Scorer(model).LogProbs(windows);
        for (int w = 0; w < windows.Count; w++)
            Assert.InRange(-logprobs[w].Average(v => (double)v), nll[w] - 2e-3, nll[w] + 2e-3);
        double perplexity = Math.Exp(logprobs.Average(lp => -lp.Average(v => (double)v)));
        Assert.InRange(perplexity, double.Parse(expected.Metadata["perplexity"]) * 0.999, double.Parse(expected.Metadata["perplexity"]) * 1.001);
    }

    [Fact]
    public void QuickstartFindsTheShippedModel()
    {
        var shipped = DemoModel.Shipped();
        Assert.NotNull(shipped);
        Assert.True(File.Exists(Path.Combine(shipped!, "tokenizer.json")));
    }
}
