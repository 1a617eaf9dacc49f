using EdgeLlm.Evaluation;
using EdgeLlm.Inference;
using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>The engine's evaluation model streams completions through the batcher; each equals the plain greedy generator's.</summary>
public class StreamedGenerationTests
{
    private static readonly string ModelDir = SharedData.Path("fixtures", "trained", "llama-pydoc");

    [Fact]
    public void EachCompletionIsTheGeneratorsWhateverRunsBesideIt()
    {
        using var lm = CausalLM.Load(ModelDir);
        var tokenizer = Tokenizers.Load(ModelDir);
        var prompts = new PromptToGenerate[]
        {
            new("def add(a, b):", new GenerationRequest(24, ["\n\n"])),
            new("class Queue:\n    def __init__(self):", new GenerationRequest(40, [])),
            new("import sys\n", new GenerationRequest(9, ["def"])),
            new("# Sort a list in place\ndef sort(xs):", new GenerationRequest(30, ["return", "\n\n"])),
            new("def main():\n    print(", new GenerationRequest(16, [")"])),
        };
        var generator = new Generator(lm, ids => tokenizer.Decode(ids, skipSpecialTokens: true));
        var want = prompts.Select(p => generator.Greedy(tokenizer.Encode(p.Prompt, addSpecialTokens: true),
            new GenerationOptions { MaxNewTokens = p.Request.MaxNewTokens, StopStrings = p.Request.StopStrings }).Text).ToList();
        Assert.True(want.Distinct().Count() == want.Count, string.Join(" | ", want.Select(w => System.Text.Json.JsonSerializer.Serialize(w))));

        var model = new EngineEvaluationModel(lm, tokenizer, new BatcherOptions { MaxBatch = 3, PrefillChunkTokens = 6 });
        var reports = new List<BatchProgress>();
        var streamed = model.GenerateEach(prompts, new Collect(reports)).ToList();
        Assert.Equal(Enumerable.Range(0, prompts.Length), streamed.Select(o => o.Index).Order());
        foreach (var o in streamed) Assert.Equal(want[o.Index], o.Output);
        Assert.Equal(streamed.Sum(o => o.NewTokens), reports[^1].GeneratedTokens);
        Assert.All(reports, r => Assert.InRange(r.InFlight, 0, 3));
        // The list form keeps input order.
        Assert.Equal(want[1], model.Generate([prompts[0].Prompt, prompts[1].Prompt], prompts[1].Request)[1]);
    }

    private sealed class Collect(List<BatchProgress> into) : IProgress<BatchProgress> { public void Report(BatchProgress value) => into.Add(value); }
}
