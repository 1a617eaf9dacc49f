using EdgeLlm.Inference;
using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Inference;

/// <summary>
/// Continuous batching against each sequence run alone (<see cref="Generator.Greedy"/>) and against static batching
/// (<see cref="Generator.GreedyBatch"/>): same tokens, texts and finish reasons, whatever else is in flight.
/// A row's float sums can depend on the batch (the AVX-512 matrix kernels pick a path by row count, see MatMul), so two
/// runs may part at a near-tie: allowed only where the two candidates' logits are within <see cref="NearTie"/>.
/// </summary>
public class ContinuousBatcherTests
{
    private const float NearTie = 1e-3f;
    private static readonly string Trained = SharedData.Path("fixtures", "trained", "llama-pydoc");
    private static readonly string Tiny = SharedData.Path("fixtures", "hf-tiny", "llama-float32");

    private static readonly string[] Texts =
    [
        "def add(a, b):", "import os\n\n\ndef read_file(path):\n    \"\"\"Read", "class Stack:\n    def __init__(self):",
        "# Compute the mean of a list of numbers\ndef mean(xs):", "x", "def fib(n):\n    \"\"\"Return the n-th Fibonacci number.",
        "for i in range(10):", "def is_prime(n):\n    if n < 2:\n        return False\n    for",
    ];

    [Fact]
    public void TrainedFixtureGivesEachSequenceItsOwnGreedyTokensAndStopsAmongOthers()
    {
        using var model = CausalLM.Load(Trained);
        var tokenizer = (CoreBackedTokenizer)Tokenizers.Load(Trained);
        string Decode(int[] ids) => tokenizer.Decode(ids, skipSpecialTokens: true);
        var requests = Texts.Select((t, i) => new SequenceRequest(tokenizer.Encode(t, addSpecialTokens: true), new GenerationOptions
        {
            MaxNewTokens = 6 + 5 * i,
            StopStrings = i % 2 == 0 ? ["\n\n", "return"] : [],
        })).ToList();
        var generator = new Generator(model, Decode);
        var alone = requests.Select(r => generator.Greedy(r.Prompt, r.Options)).ToList();
        Assert.Contains(alone, r => r.FinishReason == "stop_string"); // the case is exercised, not only max-length runs
        Assert.Contains(alone, r => r.FinishReason == "length");

        var batcher = new ContinuousBatcher(model, new BatcherOptions { MaxBatch = 3, PrefillChunkTokens = 7 },
            () => new Utf8TokenText(id => tokenizer.TokenBytes(id, skipSpecialTokens: true)));
        var results = batcher.Run(requests).ToList();
        Assert.Equal(requests.Count, results.Count);
        foreach (var r in results) AssertSame(model, requests[r.Index].Prompt, alone[r.Index], r, $"sequence {r.Index}");

        // Re-decoding every step (any detokenizer) gives the same results as the incremental UTF-8 text.
        var redecoded = new ContinuousBatcher(model, batcher.Options, () => new RedecodedText(Decode)).Run(requests).OrderBy(r => r.Index).ToList();
        Assert.Equal(results.OrderBy(r => r.Index).Select(r => (r.Text, r.FinishReason)), redecoded.Select(r => (r.Text, r.FinishReason)));
    }

    [Fact]
    public void TinyFixtureMatchesStaticBatchingWhateverTheAdmissionOrder()
    {
        using var model = CausalLM.Load(Tiny);
        using var expected = new Expected(Path.Combine(Tiny, "expected.safetensors"));
        var ids = expected.Ids("ids_len130");
        var prompts = new[] { ids[..3], ids[3..20], ids[20..27], ids[27..28], ids[30..70], ids[70..75], ids[75..90], ids[90..92], ids[..130] };
        var options = new GenerationOptions { MaxNewTokens = 14, StopAtEos = false };
        var generator = new Generator(model);
        var together = generator.GreedyBatch(prompts, options);
        var alone = prompts.Select(p => generator.Greedy(p, options)).ToList();
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(alone[i].Tokens, together[i].Tokens);

        foreach (var (maxBatch, chunk) in new[] { (1, 512), (2, 5), (4, 16), (9, 64), (16, 1) })
        {
            var requests = prompts.Select((p, i) => new SequenceRequest(p, options with { MaxNewTokens = 4 + 3 * (i % 4) })).ToList();
            var results = new ContinuousBatcher(model, new BatcherOptions { MaxBatch = maxBatch, PrefillChunkTokens = chunk }).Run(requests).ToList();
            Assert.Equal(Enumerable.Range(0, prompts.Length), results.Select(r => r.Index).Order());
            if (maxBatch >= prompts.Length && chunk > 1) Assert.NotEqual(Enumerable.Range(0, prompts.Length), results.Select(r => r.Index)); // yielded as they finish
            foreach (var r in results)
            {
                var want = together[r.Index].Tokens[..requests[r.Index].Options.MaxNewTokens];
                AssertSame(model, prompts[r.Index], new GenerationResult(want, null, "length", 0, 0), r, $"batch {maxBatch}, chunk {chunk}, sequence {r.Index}");
                Assert.Equal(prompts[r.Index].Length, r.PromptTokens);
            }
        }
    }

    [Fact]
    public void PromptsWithACommonStartComputeItOnceAndGiveTheirOwnTokens()
    {
        using var model = CausalLM.Load(Trained);
        var tokenizer = (CoreBackedTokenizer)Tokenizers.Load(Trained);
        // A few-shot header (the same exemplars before every question), as the evaluation tasks' prompts have.
        string header = "def square(x):\n    return x * x\n\n\ndef cube(x):\n    return x * x * x\n\n\n";
        var prompts = Texts.Take(6).Select(t => tokenizer.Encode(header + t, addSpecialTokens: true)).Append(tokenizer.Encode(Texts[6], addSpecialTokens: true)).ToList();
        int headerTokens = prompts[0].AsSpan().CommonPrefixLength(prompts[1]);
        Assert.InRange(headerTokens, 20, prompts[0].Length - 1);
        var requests = prompts.Select((p, i) => new SequenceRequest(p, new GenerationOptions { MaxNewTokens = 5 + 2 * i, StopAtEos = false })).ToList();
        var generator = new Generator(model);
        var alone = requests.Select(r => generator.Greedy(r.Prompt, r.Options)).ToList();

        foreach (var (maxBatch, chunk) in new[] { (3, 7), (7, 512), (2, 64) })
        {
            var reports = new List<BatchProgress>();
            var options = new BatcherOptions { MaxBatch = maxBatch, PrefillChunkTokens = chunk };
            var results = new ContinuousBatcher(model, options).Run(requests, new InlineProgress<BatchProgress>(reports.Add)).ToList();
            Assert.Equal(requests.Count, results.Count);
            foreach (var r in results) AssertSame(model, requests[r.Index].Prompt, alone[r.Index], r, $"batch {maxBatch}, chunk {chunk}, sequence {r.Index}");
            var last = reports[^1];
            // Each of the five later header prompts takes at least the header from one in flight; the last prompt has none to take.
            Assert.InRange(last.SharedPromptTokens, 5L * headerTokens, prompts.Sum(p => (long)p.Length));
            Assert.Equal(prompts.Sum(p => (long)p.Length), last.PromptTokens + last.SharedPromptTokens);

            var unshared = new ContinuousBatcher(model, options with { SharedPrefixMinTokens = 0 }).Run(requests, new InlineProgress<BatchProgress>(reports.Add)).ToList();
            Assert.Equal(0, reports[^1].SharedPromptTokens);
            Assert.Equal(prompts.Sum(p => (long)p.Length), reports[^1].PromptTokens);
            Assert.Equal(unshared.OrderBy(r => r.Index).Select(r => r.Tokens), results.OrderBy(r => r.Index).Select(r => r.Tokens));
        }
    }

    [Fact]
    public void ASharedPrefixIsEachCachesOwnOnceBothGoOn()
    {
        using var model = CausalLM.Load(Tiny);
        using var expected = new Expected(Path.Combine(Tiny, "expected.safetensors"));
        var ids = expected.Ids("ids_len130");
        var donor = model.NewCache(80);
        model.Forward(donor, ids[..40]);
        var share = donor.SharePrefix(37, 60);
        Assert.Equal(37, share.Length);
        // Both go on from their own ends; each continuation's logits are what a fresh cache gives the same tokens.
        var fromShare = model.Forward(share, ids[50..60]);
        var fromDonor = model.Forward(donor, ids[60..70]);
        AssertClose(model.Forward(model.NewCache(), [.. ids[..37], .. ids[50..60]]), fromShare);
        AssertClose(model.Forward(model.NewCache(), [.. ids[..40], .. ids[60..70]]), fromDonor);
        donor.Truncate(20); // the donor writes into the shared part again: the share keeps its own positions
        model.Forward(donor, ids[100..110]);
        AssertClose(model.Forward(model.NewCache(), [.. ids[..37], .. ids[50..60], 5]), model.Forward(share, [5]));
        static void AssertClose(float[] want, float[] got) // the row count may change float sums (see the class comment)
        {
            Assert.Equal(want.Length, got.Length);
            for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) < 1e-4f, $"logit {i}: {want[i]} vs {got[i]}");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => donor.SharePrefix(31, 40));
    }

    [Fact]
    public void TheKvBudgetHoldsBackAdmission()
    {
        using var model = CausalLM.Load(Tiny);
        var prompts = Enumerable.Range(0, 5).Select(i => Enumerable.Range(10 + i, 4 + 3 * i).ToArray()).ToList();
        var requests = prompts.Select((p, i) => new SequenceRequest(p, new GenerationOptions { MaxNewTokens = 9 - i, StopAtEos = false })).ToList();
        var generator = new Generator(model);
        var alone = requests.Select(r => generator.Greedy(r.Prompt, r.Options).Tokens).ToList();
        // Reservations 13, 15, 17, 19, 21: a budget of 21 admits one at a time, 28 admits two (13 + 15) but never three.
        foreach (var (budget, most) in new[] { (21L, 1), (28L, 2) })
        {
            var batcher = new ContinuousBatcher(model, new BatcherOptions { MaxBatch = 8, MaxKvTokens = budget });
            Assert.Equal([13, 15, 17, 19, 21], requests.Select(batcher.Reservation));
            var reports = new List<BatchProgress>();
            var results = batcher.Run(requests, new InlineProgress<BatchProgress>(reports.Add)).ToList();
            Assert.All(reports, p => Assert.InRange(p.InFlight, 0, most));
            Assert.Contains(reports, p => p.InFlight == most);
            if (most == 1) Assert.Equal([0, 1, 2, 3, 4], results.Select(r => r.Index));
            foreach (var r in results) Assert.Equal(alone[r.Index], r.Tokens);
            Assert.Equal(5, reports[^1].Done);
            Assert.Equal(results.Sum(r => r.Tokens.Length), reports[^1].GeneratedTokens);
            Assert.Equal(prompts.Sum(p => p.Length), reports[^1].PromptTokens);
        }
    }

    [Fact]
    public void ASequenceThatFillsTheContextFinishesThereWithTheTokensItHad()
    {
        using var model = CausalLM.Load(Tiny);
        int context = model.MaxContext, length = context - 4;
        var prompt = Enumerable.Range(0, length).Select(i => 3 + i * 7 % 900).ToArray();
        var options = new GenerationOptions { MaxNewTokens = 50, StopAtEos = false };
        var result = Assert.Single(new ContinuousBatcher(model, new BatcherOptions { PrefillChunkTokens = 100 }).Run([new SequenceRequest(prompt, options)]));
        Assert.Equal("context", result.FinishReason);
        // The prompt and all but the last generated token sit in the cache: context − prompt + 1 tokens.
        Assert.Equal(context - length + 1, result.Tokens.Length);
        var reference = new Generator(model).Greedy(prompt, options with { MaxNewTokens = context - length + 1 });
        Assert.Equal(reference.Tokens, result.Tokens);
    }

    [Fact]
    public void BadRequestsAndCancellationAreRefusedClearly()
    {
        using var model = CausalLM.Load(Tiny);
        var batcher = new ContinuousBatcher(model, new BatcherOptions { MaxKvTokens = 10 });
        var options = new GenerationOptions { MaxNewTokens = 4, StopAtEos = false };
        Assert.Contains("empty prompt", Assert.Throws<ArgumentException>(() => batcher.Run([new SequenceRequest([], options)]).ToList()).Message);
        Assert.Contains("more than the budget of 10", Assert.Throws<ArgumentException>(() => batcher.Run([new SequenceRequest(new int[8], options)]).ToList()).Message);
        Assert.Throws<InvalidOperationException>(() => batcher.Run([new SequenceRequest([5], options with { StopStrings = ["x"] })]).ToList());
        Assert.Throws<ArgumentException>(() => new ContinuousBatcher(model, new BatcherOptions { MaxBatch = 0 }));
        using var cancel = new CancellationTokenSource();
        var stream = new ContinuousBatcher(model, new BatcherOptions { MaxBatch = 1 })
            .Run(Enumerable.Range(0, 4).Select(i => new SequenceRequest([5 + i, 6], options)), cancellationToken: cancel.Token);
        int seen = 0;
        Assert.Throws<OperationCanceledException>(() => { foreach (var _ in stream) { seen++; cancel.Cancel(); } });
        Assert.Equal(1, seen);
    }

    [Fact]
    public void Utf8TextEqualsTheTokenizersDecodeAfterEveryToken()
    {
        var tokenizer = (CoreBackedTokenizer)Tokenizers.Load(Trained);
        var random = new Random(7);
        foreach (bool skip in new[] { true, false })
            for (int trial = 0; trial < 20; trial++)
            {
                var text = new Utf8TokenText(id => tokenizer.TokenBytes(id, skip));
                var ids = new List<int>();
                string stable = "";
                for (int n = 0; n < 40; n++)
                {
                    // Low ids are single bytes (partial UTF-8 characters among them); the rest whole tokens.
                    int id = random.Next(3) == 0 ? random.Next(0, 260) : random.Next(tokenizer.VocabSize);
                    ids.Add(id);
                    text.Append(id);
                    var want = tokenizer.Decode(ids.ToArray(), skip);
                    Assert.Equal(want, text.TextFrom(0));
                    Assert.StartsWith(stable, want, StringComparison.Ordinal);
                    stable = want[..text.StableLength];
                }
            }
    }

    /// <summary>Same tokens, or the two part where the alone run's logits of both candidates are within <see cref="NearTie"/>.</summary>
    private static void AssertSame(CausalLM model, int[] prompt, GenerationResult alone, SequenceResult batched, string label)
    {
        int common = 0;
        while (common < alone.Tokens.Length && common < batched.Tokens.Length && alone.Tokens[common] == batched.Tokens[common]) common++;
        if (common == alone.Tokens.Length && common == batched.Tokens.Length)
        {
            Assert.Equal(alone.FinishReason, batched.FinishReason);
            Assert.Equal(alone.Text, batched.Text);
            return;
        }
        Assert.True(common < alone.Tokens.Length && common < batched.Tokens.Length, $"{label}: one run stopped early ({alone.FinishReason} vs {batched.FinishReason})");
        var logits = model.Forward(model.NewCache(), [.. prompt, .. alone.Tokens[..common]]);
        float gap = Math.Abs(logits[alone.Tokens[common]] - logits[batched.Tokens[common]]);
        Assert.True(gap < NearTie, $"{label}: token {common} is {alone.Tokens[common]} alone but {batched.Tokens[common]} batched, logits {gap} apart");
    }

}
