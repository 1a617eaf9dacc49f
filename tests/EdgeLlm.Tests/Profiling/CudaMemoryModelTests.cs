using EdgeLlm.Checkpoints;
using EdgeLlm.Profiling;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Profiling;

/// <summary>The CUDA engines' device buffers as the memory model counts them, worked by hand from the allocating code.</summary>
public class CudaMemoryModelTests
{
    private static ModelConfig Preset(string name) => ModelConfig.Parse(ModelPresets.Config(name));
    private static ModelConfig Fixture(string name) => ModelConfig.Load(SharedData.Path("fixtures", "hf-tiny", name, "config.json"));

    [Fact]
    public void ThePagedPoolHoldsWholeBlocksOfSixteenPositionsInWholeSlabs()
    {
        var llama = Preset("llama-3-8b"); // a block: 2 · 16 · 32 layers · 8 kv heads · 128 · 2 B = 2,097,152; 128 blocks (2,048 positions) to a slab
        Assert.Equal(2_097_152L, CudaMemoryModel.PagedBlockBytes(llama, DType.F16));
        Assert.Equal(128L, CudaMemoryModel.PagedBlocksPerSlab(2_097_152));
        Assert.Equal(268_435_456L, CudaMemoryModel.PagedKvBytes(llama, 2048, 1, DType.F16)); // 128 blocks: one slab, as a contiguous cache
        Assert.Equal(536_870_912L, CudaMemoryModel.PagedKvBytes(llama, 2049, 1, DType.F16)); // 2,064 positions = 129 blocks: a second slab
        Assert.Equal(268_566_528L, MemoryModel.KvCacheBytes(llama, 2049, 1, DType.F16)); // what a contiguous cache would take
        Assert.Equal(268_435_456L, CudaMemoryModel.PagedKvBytes(llama, 17, 64, DType.F16)); // 64 sequences of 2 blocks: 128 blocks

        // The fixture's block, 2 · 16 · 3 layers · 2 kv heads · 32 · 2 B = 12,288, would fit 21,845 times in 256 MiB: capped at 4,096.
        var tiny = Fixture("llama-float16");
        Assert.Equal(12_288L, CudaMemoryModel.PagedBlockBytes(tiny, DType.F16));
        Assert.Equal(4096L, CudaMemoryModel.PagedBlocksPerSlab(12_288));
        Assert.Equal(50_331_648L, CudaMemoryModel.PagedKvBytes(tiny, 20, 1, DType.F16));
        Assert.Equal(100_663_296L, CudaMemoryModel.PagedKvBytes(tiny, 16, 4097, DType.F16)); // 4,097 blocks: two slabs
    }

    [Fact]
    public void TheWholeBlocksOfASharedPrefixAreHeldOnce()
    {
        // Phi-2: a block is 2 · 16 · 32 layers · 32 kv heads · 80 · 2 B = 5,242,880; 51 to a 256 MiB slab.
        // 128 sequences of 1,152 positions (72 blocks) sharing the first 896 (56 whole blocks): 72 + 127 · (72 − 56) = 2,104
        // blocks = 42 slabs (41.3) = 2,142 blocks = 11,230,248,960 B — the pool the H200 allocated for this run
        // (docs/gpu/bench-phi-2-b128-p1024-shared896-prefix.json, kv_pool_bytes). Unshared: 9,216 blocks = 181 slabs.
        var phi = Preset("phi-2");
        Assert.Equal(5_242_880L, CudaMemoryModel.PagedBlockBytes(phi, DType.F16));
        Assert.Equal(11_230_248_960L, CudaMemoryModel.PagedKvBytes(phi, 1152, 128, DType.F16, 896));
        Assert.Equal(181L * 51 * 5_242_880, CudaMemoryModel.PagedKvBytes(phi, 1152, 128, DType.F16));
        // A prefix ending inside a block shares only the blocks before it: 900 positions hold the same 56 as 896.
        Assert.Equal(11_230_248_960L, CudaMemoryModel.PagedKvBytes(phi, 1152, 128, DType.F16, 900));
        // One sequence shares with no one.
        Assert.Equal(CudaMemoryModel.PagedKvBytes(phi, 1152, 1, DType.F16), CudaMemoryModel.PagedKvBytes(phi, 1152, 1, DType.F16, 896));
        var scenario = MemoryScenario.ContinuousBatch(128, 1152, 0, RuntimeProfile.EdgeLlmCuda) with { SharedPrefixTokens = 896 };
        Assert.Equal(11_230_248_960L, MemoryModel.Predict(phi, scenario).KvCacheBytes);
        Assert.Throws<ArgumentException>(() => MemoryModel.Predict(phi, scenario with { SharedPrefixTokens = 1153 }));
    }

    [Fact]
    public void BlocksAreRoundedUpTo256Bytes()
    {
        // One layer, one kv head of 6 channels: 2 · 16 · 6 · 2 B = 384 → 512; 4,096 of them (2 MiB) to a slab.
        var odd = ModelConfig.Parse((System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse("""
            {"architectures": ["LlamaForCausalLM"], "hidden_size": 12, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 6,
             "intermediate_size": 24, "num_hidden_layers": 1, "vocab_size": 50, "max_position_embeddings": 64, "rms_norm_eps": 1e-5}
            """)!);
        Assert.Equal(512L, CudaMemoryModel.PagedBlockBytes(odd, DType.F16));
        Assert.Equal(2_097_152L, CudaMemoryModel.PagedKvBytes(odd, 17, 2, DType.F16));
    }

    [Fact]
    public void BackendScratchOfTheFixtureWorkedByHand()
    {
        // hf-tiny llama: hidden 128, 4 heads of 32 (q 128), 2 kv heads (k, v 64), intermediate 344, vocabulary 1,000; 20 rows, 2 sequences.
        //   roles (float32, + a quarter): x, h, q, attn 20 · 128 · 4 = 10,240 → 12,800 (×4); k, v 5,120 → 6,400 (×2); gate, up 27,520 → 34,400 (×2) = 132,800
        //   float16 GEMM input, widest input 344: 13,760 → 17,200; covering q|k (v, gate and up are products of their own) 192 wide: 15,360 → 19,200
        //   greedy: rows, tokens 8 B → 256 each; hidden 2 · 128 · 4 = 1,024 → 1,280; logits 2 · 1,000 · 4 = 8,000 → 10,000
        //   = 180,992; prompt-chunk attention over a context of 40: keys and values 40 · 64 · 2 = 5,120 → 6,400 each,
        //   queries 20 · 128 · 2 = 5,120 → 6,400, outputs 10,240 → 12,800, scores 2^23 · 4 → 41,943,040, probabilities → 20,971,520
        var tiny = Fixture("llama-float16");
        const long prefill = 2 * 6_400 + 6_400 + 12_800 + 41_943_040 + 20_971_520;
        Assert.Equal(180_992L + prefill, CudaMemoryModel.BackendScratchBytes(tiny, 20, 2, 40, DType.F16));
        // float32 weights: no 16-bit copy, and attention through the tiled kernel (no prompt-chunk buffers); bfloat16: two halves of 17,200.
        Assert.Equal(180_992L - 17_200, CudaMemoryModel.BackendScratchBytes(tiny, 20, 2, 40, DType.F32));
        Assert.Equal(180_992L + prefill + 17_200, CudaMemoryModel.BackendScratchBytes(tiny, 20, 2, 40, DType.BF16));
        // One row (decode steps only): roles 4 · 640 + 2 · 320 + 2 · 1,720 = 6,640; input 688 → 860; covering the one-row
        // gate|up, 688 · 4 → 3,440; the same head 11,792; no prompt-chunk attention.
        Assert.Equal(6_640L + 860 + 3_440 + 11_792, CudaMemoryModel.BackendScratchBytes(tiny, 1, 2, 40, DType.F16));
    }

    [Fact]
    public void PromptScoresGrowPastTheBudgetOnlyForOneRowOverAVeryLongContext()
    {
        // Llama-3-8B (32 heads, KV width 1,024), 2 rows. A context of 262,144: 32 · 262,144 = 2^23 scores, the budget itself.
        // Doubling it adds keys and values 2 · (1,342,177,280 − 671,088,640) and one row's 2^24 scores: 83,886,080 − 41,943,040
        // (float32) + 41,943,040 − 20,971,520 (float16) = 62,914,560.
        var llama = Preset("llama-3-8b");
        long at = CudaMemoryModel.BackendScratchBytes(llama, 2, 1, 262_144, DType.F16);
        Assert.Equal(1_342_177_280L + 62_914_560, CudaMemoryModel.BackendScratchBytes(llama, 2, 1, 524_288, DType.F16) - at);
        // Below the budget only the keys and values grow: 2 · (671,088,640 − 335,544,320).
        Assert.Equal(671_088_640L, at - CudaMemoryModel.BackendScratchBytes(llama, 2, 1, 131_072, DType.F16));
    }

    [Fact]
    public void FusedGreedyOfThePhiFixtureWorkedByHand()
    {
        // hf-tiny phi: hidden 128, 4 heads of 32 (kv 4), intermediate 512, 3 layers, vocabulary 1,000; a cache of 64, a prompt of 56.
        //   KV: 2 · 64 · 3 · 128 · 2 B = 98,304
        //   partials 4 heads · 2 splits of 32 positions · 34 · 4 = 1,088; decode buffers (3 · 128 + 2 · 128 + 512 + 1,000) · 4 + 16
        //   + rotation 4 · 12 (rotary dim: int(32 · 0.4)) + 4 heads · 4 + the norms' statistics 8 · 128 / 4 = 8,944
        //   LayerNorms folded into the decode products: W·γ and bias + W·β for 3 layers of 896 q|k|v|fc1 rows and the head's
        //   1,000: 2 · 4 · (3 · 896 + 1,000) = 29,504
        //   prefill, one chunk of 56 rows over 56 keys: tokens 224 → 256, x 28,672, normed 56 · 128 · 2 = 14,336,
        //   q|k|v|fc1 output 56 · 896 · 4 = 200,704, fc1 activation 56 · 512 · 2 = 57,344, rotated q 14,336,
        //   scores 4 · 56 · 56 · 4 = 50,176, probabilities 25,088, attention output 28,672, hidden 28,672 = 448,256
        var phi = Fixture("phi-float16");
        Assert.Equal(98_304L, CudaMemoryModel.FusedKvBytes(phi, 64, DType.F16));
        Assert.Equal(1_088L + 8_944 + 29_504 + 448_256, CudaMemoryModel.FusedScratchBytes(phi, 64, 56, DType.F16));
        var p = MemoryModel.Predict(phi, new MemoryScenario { Context = 64, StepRows = 56, Runtime = RuntimeProfile.EdgeLlmCudaGreedy, WeightBytes = 1000 });
        Assert.Equal(1000 + 98_304 + 487_792 + (32L << 20) + (512L << 20), p.TotalBytes);
        // One prompt token runs the decode step: no prefill scratch.
        Assert.Equal(1_088 + 8_944 + 29_504, CudaMemoryModel.FusedScratchBytes(phi, 64, 1, DType.F16));
    }

    [Fact]
    public void FusedPrefillChunksKeepHeadsTimesRowsTimesKeysWithin2To28()
    {
        // Llama-3-8B, a 4,096-token prompt into a 4,096 cache. CudaEngine.Append asks for chunks with keys = length so far + the prompt:
        //   chunk 1: min(2,048, 2^28 / (32 · 4,096) = 2,048) = 2,048 rows over 2,048 keys
        //   chunk 2: 2^28 / (32 · 6,144) = 1,365 rows over 3,413 keys (4,658,745 scores per head, the most)
        //   chunk 3: the last 683 rows over 4,096 keys
        // Largest buffers: tokens 8,192, x 33,554,432, normed 16,777,216, gate|up output 2,048 · 28,672 · 4 = 234,881,024,
        //   MLP 58,720,256, rotated q 16,777,216, scores 32 · 4,658,745 · 4 = 596,319,360, probabilities 298,159,680,
        //   attention output 33,554,432, hidden 33,554,432 = 1,322,306,240; partials 32 · 128 splits · 130 · 4 = 2,129,920;
        //   decode buffers (3 · 4,096 + 2 · 4,096 + 14,336 + 128,256) · 4 + 16 + rotation 4 · 128 + 32 heads · 4
        //   + the norms' statistics 8 · 4,096 / 4 = 661,136
        Assert.Equal(1_325_097_296L, CudaMemoryModel.FusedScratchBytes(Preset("llama-3-8b"), 4096, 4096, DType.F16));
    }

    [Fact]
    public void GreedyScenariosAreOneSequenceWhosePromptFits()
    {
        var phi = Fixture("phi-float16");
        Assert.Throws<ArgumentException>(() => MemoryModel.Predict(phi, new MemoryScenario { Context = 64, Batch = 2, Runtime = RuntimeProfile.EdgeLlmCudaGreedy }));
        Assert.Throws<ArgumentException>(() => MemoryModel.Predict(phi, new MemoryScenario { Context = 64, StepRows = 65, Runtime = RuntimeProfile.EdgeLlmCudaGreedy }));
        var m = ModelConfig.Load(SharedData.Reference("mistral-float32", "config.json"));
        var e = Assert.Throws<ArgumentException>(() => MemoryModel.Predict(m, new MemoryScenario { Context = 64, Runtime = RuntimeProfile.EdgeLlmCudaGreedy }));
        Assert.Contains("MistralForCausalLM", e.Message);
        // The backend runs Mistral without the fused engine, so no covering product: hidden 32, 4 heads of 8, 2 kv heads,
        // intermediate 64; 10 rows of x, h, q, attn (32 wide: 1,280 B → 1,600 each), k, v (16: 640 → 800), gate, up (64: 2,560 → 3,200)
        // = 14,400; float16 input, widest 64: 1,280 → 1,600; head for one sequence: 256 + 256 + 128 → 256 + 4,000 → 5,000.
        // Prompt-chunk attention over a context of 64: keys and values 64 · 16 · 2 = 2,048 → 2,560 each, queries 640 → 800,
        // outputs 1,280 → 1,600, and the fixed score and probability buffers.
        long roles = 4 * 1_600 + 2 * 800 + 2 * 3_200, input = 1_600, head = 256 + 256 + 256 + 5_000;
        long prefill = 2 * 2_560 + 800 + 1_600 + 41_943_040 + 20_971_520;
        Assert.Equal(roles + input + head + prefill, CudaMemoryModel.BackendScratchBytes(m, 10, 1, 64, DType.F16));
    }
}
