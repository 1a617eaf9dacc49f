using System.Numerics.Tensors;
using EdgeLlm.Inference;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Inference;

/// <summary>
/// <see cref="CausalLM.GreedyNext"/> on the CPU backend (its <c>GreedyTokens</c> primitive): the argmax of the head over
/// each segment's last row, equal to the host argmax of <see cref="CausalLM.Logits"/>, and transformers' greedy tokens.
/// </summary>
public class GreedyNextTests
{
    private static string Fixture(string name) => SharedData.Path("fixtures", "hf-tiny", name);

    [Theory]
    [InlineData("llama-float32")]
    [InlineData("phi-bfloat16")]
    [InlineData("qwen2-float16")]
    public void EqualsTheHostArgmaxOfTheLogitsForEverySegment(string fixture)
    {
        using var lm = CausalLM.Load(Fixture(fixture));
        using var expected = new Expected(Path.Combine(Fixture(fixture), "expected.safetensors"));
        var ids = expected.Ids("ids_len130");
        int[][] prompts = [ids[..9], ids[20..61], ids[70..71]];
        var caches = prompts.Select(p => lm.NewCache(p.Length + 1)).ToArray();
        var clones = prompts.Select(p => lm.NewCache(p.Length + 1)).ToArray();
        var next = lm.GreedyNext(prompts.Select((p, i) => new Segment(caches[i], p)).ToList());

        var hidden = lm.ForwardHidden(prompts.Select((p, i) => new Segment(clones[i], p)).ToList());
        int dim = lm.Config.HiddenSize, vocab = lm.VocabSize, row = 0;
        for (int s = 0; s < prompts.Length; s++)
        {
            row += prompts[s].Length;
            var logits = new float[vocab];
            lm.Logits(hidden.AsSpan((row - 1) * dim, dim), 1, logits);
            Assert.Equal(TensorPrimitives.IndexOfMax<float>(logits), next[s]);
            Assert.Equal(prompts[s].Length, caches[s].Length); // the tokens were appended
        }
    }

    [Fact]
    public void GreedyDecodingThroughGreedyNextReproducesTransformers()
    {
        using var lm = CausalLM.Load(Fixture("llama-float32"));
        using var expected = new Expected(Path.Combine(Fixture("llama-float32"), "expected.safetensors"));
        var prompt = expected.Ids("greedy_prompt");
        var want = expected.Ids("greedy_out");
        var cache = lm.NewCache(prompt.Length + want.Length);
        var got = new List<int>();
        int token = lm.GreedyNext([new Segment(cache, prompt)])[0];
        while (true)
        {
            got.Add(token);
            if (got.Count == want.Length) break;
            token = lm.GreedyNext([new Segment(cache, [token])])[0];
        }
        Assert.Equal(want, got);
    }

    [Fact]
    public void ASegmentWithoutTokensIsRefused()
    {
        using var lm = CausalLM.Load(Fixture("llama-float32"));
        Assert.Throws<ArgumentException>(() => lm.GreedyNext([new Segment(lm.NewCache(), [])]));
    }
}
