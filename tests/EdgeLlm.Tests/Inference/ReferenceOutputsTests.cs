using EdgeLlm.Inference;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Inference;

/// <summary>Every hf-tiny checkpoint against the logits, log-likelihoods and greedy tokens transformers computed.</summary>
public class ReferenceOutputsTests
{
    public static TheoryData<string> Fixtures()
    {
        var data = new TheoryData<string>();
        foreach (var arch in new[] { "llama", "phi", "qwen2" })
            foreach (var dtype in new[] { "float32", "bfloat16", "float16" })
                data.Add($"{arch}-{dtype}");
        return data;
    }

    private static string Folder(string name) => SharedData.Path("fixtures", "hf-tiny", name);

    private static CausalLM Load(string fixture) => CausalLM.Load(Folder(fixture));

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void FullForwardLogitsMatchTransformers(string fixture)
    {
        using var model = Load(fixture);
        using var expected = new Expected(Path.Combine(Folder(fixture), "expected.safetensors"));
        foreach (var n in new[] { 1, 7, 33, 130 })
        {
            var ids = expected.Ids($"ids_len{n}");
            var logits = model.ForwardAll(model.NewCache(), ids);
            float diff = Expected.MaxAbsDiff(expected.Floats($"logits_len{n}"), logits);
            Assert.True(diff < 1e-3f, $"{fixture} len {n}: max |Δlogit| = {diff}");
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void IncrementalDecodingEqualsFullForward(string fixture)
    {
        using var model = Load(fixture);
        using var expected = new Expected(Path.Combine(Folder(fixture), "expected.safetensors"));
        var ids = expected.Ids("ids_len33");
        var full = model.ForwardAll(model.NewCache(), ids);
        var cache = model.NewCache(initialCapacity: 4); // forces the cache to grow while decoding
        model.Forward(cache, ids.AsSpan(0, 10));
        for (int t = 10; t < ids.Length; t++)
        {
            var step = model.Forward(cache, ids.AsSpan(t, 1));
            float diff = Expected.MaxAbsDiff(full.AsSpan(t * model.VocabSize, model.VocabSize), step);
            Assert.True(diff < 1e-4f, $"{fixture} position {t}: incremental differs from full forward by {diff}");
        }
        Assert.Equal(ids.Length, cache.Length);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void LogLikelihoodsMatchTransformers(string fixture)
    {
        using var model = Load(fixture);
        using var expected = new Expected(Path.Combine(Folder(fixture), "expected.safetensors"));
        var logprobs = new Scorer(model).LogProbs(expected.Ids("ids_len33"));
        float diff = Expected.MaxAbsDiff(expected.Floats("loglik_len33"), logprobs);
        Assert.True(diff < 1e-3f, $"{fixture}: max |Δloglik| = {diff}");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void GreedyTokensMatchTransformers(string fixture)
    {
        using var model = Load(fixture);
        using var expected = new Expected(Path.Combine(Folder(fixture), "expected.safetensors"));
        var want = expected.Ids("greedy_out");
        var refLogits = expected.Floats("greedy_logits");
        var result = new Generator(model).Greedy(expected.Ids("greedy_prompt"),
            new GenerationOptions { MaxNewTokens = want.Length, StopAtEos = false });
        Assert.Equal(want.Length, result.Tokens.Length);
        for (int t = 0; t < want.Length; t++)
        {
            if (result.Tokens[t] == want[t]) continue;
            var row = refLogits.AsSpan(t * model.VocabSize, model.VocabSize).ToArray();
            var top = row.OrderDescending().Take(2).ToArray();
            Assert.True(top[0] - top[1] < 1e-3f,
                $"{fixture} step {t}: generated {result.Tokens[t]}, transformers {want[t]} (top-two gap {top[0] - top[1]})");
            break; // after a legitimate tie the continuations diverge
        }
        Assert.Equal("length", result.FinishReason);
    }

    [Theory]
    [InlineData("llama-float16")]
    [InlineData("phi-bfloat16")]
    public void BatchedScoringOfUnequalLengthsEqualsOneByOne(string fixture)
    {
        using var model = Load(fixture);
        using var expected = new Expected(Path.Combine(Folder(fixture), "expected.safetensors"));
        var ids = expected.Ids("ids_len130");
        var sequences = new[] { ids[..5], ids[10..43], ids[50..51], ids[60..130] };
        var batched = new Scorer(model).LogProbs(sequences);
        for (int i = 0; i < sequences.Length; i++)
        {
            var single = new Scorer(model).LogProbs(sequences[i]);
            Assert.True(Expected.MaxAbsDiff(single, batched[i]) < 1e-4f, $"sequence {i}");
        }
    }

    [Fact]
    public void ContinuationsSharingAPromptScoreAsTheirConcatenation()
    {
        using var model = Load("qwen2-float32");
        using var expected = new Expected(Path.Combine(Folder("qwen2-float32"), "expected.safetensors"));
        var ids = expected.Ids("ids_len33");
        var reference = expected.Floats("loglik_len33");
        int[] context = ids[..20];
        var candidates = new[] { ids[20..33], ids[20..21], ids[20..25] };
        var scores = new Scorer(model).ScoreContinuations(context, candidates);
        for (int c = 0; c < candidates.Length; c++)
        {
            double want = reference.Skip(19).Take(candidates[c].Length).Sum(v => (double)v);
            Assert.InRange(scores[c].LogLikelihood, want - 2e-3, want + 2e-3);
        }
    }

    [Fact]
    public void BatchedGreedyDecodingEqualsOneAtATime()
    {
        using var model = Load("llama-bfloat16");
        using var expected = new Expected(Path.Combine(Folder("llama-bfloat16"), "expected.safetensors"));
        var ids = expected.Ids("ids_len130");
        var prompts = new[] { ids[..3], ids[3..20], ids[20..27], ids[27..28], ids[30..70], ids[70..75], ids[75..90], ids[90..92] };
        var options = new GenerationOptions { MaxNewTokens = 12, StopAtEos = false };
        var generator = new Generator(model);
        var batched = generator.GreedyBatch(prompts, options);
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(generator.Greedy(prompts[i], options).Tokens, batched[i].Tokens);
    }
}
