using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Backends.Cuda;

namespace EdgeLlm.Profiling;

/// <summary>
/// The device buffers of EdgeLlm's CUDA engines, as their code allocates them, for <see cref="MemoryModel"/>'s
/// <see cref="MemoryLayout.CudaBackend"/> and <see cref="MemoryLayout.CudaGreedy"/> layouts. Every term names the
/// allocation it follows; buffers of a few KiB (the backend's step table, row maps, vectors re-uploaded as float32) and the
/// backend's decode-attention split partials (sized by the device's multiprocessors, a few MiB at batch 64) are left out. Scratch kept by name is counted at the size the largest step asks for: the engines free a buffer before
/// allocating its larger replacement, and never shrink one.
/// </summary>
public static class CudaMemoryModel
{
    /// <summary>The workspace <c>CudaBackend</c> gives its cuBLAS handle (so captured GEMMs allocate nothing).</summary>
    public const long CublasWorkspaceBytes = 32L << 20;

    /// <summary>Rows of one fused-engine prefill chunk at most (<c>CudaEngine.ChunkRows</c>).</summary>
    public const int FusedChunkRows = 2048;

    /// <summary>Scores (float32) the backend's prompt-chunk attention holds at once (<c>CudaBackend.PrefillAttention</c>: 32 MiB, its probabilities 16 MiB).</summary>
    public const long PrefillScoreFloats = 1L << 23;

    /// <summary>Positions per flash-decoding split of the fused engine's cache (<c>DeviceKvCache.AttentionSplit</c>).</summary>
    public const int AttentionSplit = 32;

    // ---------------------------------------------------------------- the backend

    /// <summary>
    /// The paged pool for <paramref name="batch"/> sequences of <paramref name="context"/> positions (<c>PagedKvPool</c>): each
    /// sequence takes whole blocks of 16 positions; a block holds every layer's keys and values, rounded up to 256 bytes; the
    /// pool grows by slabs of as many blocks as fit in 256 MiB (1 to 4,096), so it holds whole slabs. With a shared prefix of
    /// <paramref name="sharedPrefix"/> positions, every sequence after the first holds the first one's blocks wholly inside it
    /// instead of blocks of its own (<c>PagedKvStorage.Share</c>; the block the prefix ends in is copied).
    /// </summary>
    public static long PagedKvBytes(ModelConfig c, int context, int batch, DType kv, int sharedPrefix = 0)
    {
        long block = PagedBlockBytes(c, kv), perSlab = PagedBlocksPerSlab(block);
        long blocks = batch * Ceil(context, PagedKvPool.BlockTokens) - (batch - 1L) * (Math.Min(sharedPrefix, context) / PagedKvPool.BlockTokens);
        return Ceil(blocks, perSlab) * perSlab * block;
    }

    public static long PagedBlockBytes(ModelConfig c, DType kv) =>
        Ceil(2L * PagedKvPool.BlockTokens * c.KvWidthAllLayers * kv.SizeOf(), PagedKvPool.BlockAlignment) * PagedKvPool.BlockAlignment;

    public static long PagedBlocksPerSlab(long blockBytes) => Math.Clamp(PagedKvPool.SlabBytes / blockBytes, 1, PagedKvPool.MaxBlocksPerSlab);

    /// <summary>
    /// The backend's buffers after steps of up to <paramref name="rows"/> rows over up to <paramref name="sequences"/> sequences,
    /// each allocated a quarter larger than asked (<c>CudaBackend.Buffer</c>, at least 256 bytes):
    /// <list type="bullet">
    /// <item>every scratch role of the architecture, float32 (<see cref="Architectures.ModelArchitecture.ScratchBuffers"/>);</item>
    /// <item>the GEMM input in 16 bits (<c>linear.x16</c>; bfloat16: its two halves <c>linear.hi</c>, <c>linear.lo</c>), rows × the widest
    /// projection input; float32 weights need none;</item>
    /// <item>the product over the fused engine's rows that several outputs share (<c>linear.covering</c>, float32): outputs whose
    /// rows the engine permuted (q|k: Llama, Qwen2, Phi; c_attn: QWen) for steps of several rows, where the others are products of
    /// their own; one row covers the interleaved gate|up (w2|w1) too; none without the engine (Mistral);</item>
    /// <item>the greedy head per sequence: its gathered hidden row and logits (float32), its row index and token;</item>
    /// <item>for steps of several rows of a 16-bit model, the prompt-chunk attention through cuBLAS (<c>CudaBackend.PrefillAttention</c>): a
    /// segment's keys and values gathered in float16 (the widest layer's KV width × <paramref name="context"/>, the most
    /// positions a prompt reaches: an upper bound when every prompt is shorter), the queries in float16 and the outputs in
    /// float32 for every row of the step, and the score (float32) and probability (float16) buffers of
    /// <see cref="PrefillScoreFloats"/>, or of one row's heads × context when that is more.</item>
    /// </list>
    /// </summary>
    public static long BackendScratchBytes(ModelConfig c, int rows, int sequences, int context, DType weights)
    {
        var w = Widths.Of(c);
        long total = c.Architecture.ScratchBuffers(c).Sum(b => Grown((long)rows * b.Width * 4));
        long input = (long)rows * Math.Max(c.HiddenSize, Math.Max(w.Query, w.Mlp)) * 2;
        total += weights switch { DType.F16 => Grown(input), DType.BF16 => 2 * Grown(input), _ => 0 };
        long covering = Math.Max((long)rows * w.Covering, w.CoveringOneRow);
        if (covering > 0) total += Grown(covering * 4);
        total += 2 * Grown(sequences * 4L) + Grown((long)sequences * c.HiddenSize * 4) + Grown((long)sequences * c.VocabSize * 4);
        if (rows > 1 && weights != DType.F32)
            total += 2 * Grown((long)context * w.Kv * 2) + Grown((long)rows * w.Query * 2) + Grown((long)rows * w.Query * 4)
                + Grown(Math.Max(PrefillScoreFloats, (long)w.Heads * context) * 4) + Grown(Math.Max(PrefillScoreFloats, (long)w.Heads * context) * 2);
        return total;
    }

    /// <summary>What <c>CudaBackend.Buffer</c> allocates for a request: a quarter more (room to grow), at least 256 bytes.</summary>
    public static long Grown(long bytes) => Math.Max(256, bytes + bytes / 4);

    // ---------------------------------------------------------------- the fused engine, batch-1 greedy

    /// <summary>The fused engine's cache of <paramref name="capacity"/> positions (<c>DeviceKvMemory</c>): keys and values, contiguous.</summary>
    public static long FusedKvBytes(ModelConfig c, int capacity, DType kv) => 2L * capacity * c.KvWidthAllLayers * kv.SizeOf();

    /// <summary>
    /// The fused engine's buffers for one sequence of <paramref name="capacity"/> positions whose prompt of
    /// <paramref name="promptRows"/> tokens is prefilled in one call:
    /// <list type="bullet">
    /// <item>the cache's flash-decoding partials: heads × splits of 32 positions × (head_dim + 2) float32 (<c>DeviceKvMemory</c>);</item>
    /// <item>the decode step's fixed buffers (<c>CudaEngine.Decode</c>): x, normed x and hidden (hidden size), q and attention
    /// output (heads × head_dim), the MLP (intermediate), logits (vocabulary), float32; the state: 16 bytes of token and
    /// position, the step's rotation ((cos, sin) float32 for each of rotary-dim / 2 frequencies) and a 4-byte attention counter
    /// per head; the norms' statistics, a (Σx², Σx) float32 pair per group of 4 rows of the hidden state;</item>
    /// <item>Phi's LayerNorms folded into the decode products (<c>CudaEngine.FoldLayerNorm</c>): W·γ and bias + W·β, float32, for
    /// each layer's q|k|v|fc1 rows and for the head's vocabulary rows;</item>
    /// <item>the prefill's named scratch (<c>CudaEngine.PrefillChunk</c>, at least 256 bytes each), at its largest chunk: token ids,
    /// the residual stream x and hidden (float32), the normed input and the MLP activation (the GEMM input type: 2 bytes for
    /// float16 weights, 4 for bfloat16 and float32), the fused projection's output (float32), rotated queries (float16),
    /// attention scores (float32) and probabilities (float16) of every head over the chunk's keys, the attention output
    /// (float32), and for bfloat16 weights the two halves of the widest GEMM input. Chunks are at most 2048 rows and
    /// heads × rows × keys ≤ 2^28 (<c>CudaEngine.ChunkRows</c>).</item>
    /// </list>
    /// </summary>
    public static long FusedScratchBytes(ModelConfig c, int capacity, int promptRows, DType weights)
    {
        var w = Widths.Of(c);
        if (w.Fused == 0) throw new ArgumentException($"The fused CUDA engine runs Llama, Qwen2, Phi and QWen checkpoints, not {c.ArchitectureName}.");
        int d = c.HiddenSize, heads = w.Heads;
        long partials = (long)heads * Ceil(capacity, AttentionSplit) * (c.HeadDim + 2) * 4;
        long decode = (3L * d + 2L * w.Query + w.Mlp + c.VocabSize) * 4 + 16 + 4L * c.Rope.RotaryDim + heads * 4L + 8L * Ceil(d, 4);
        return partials + decode + FoldedLayerNormBytes(c) + FusedPrefillBytes(c, w, promptRows, weights);
    }

    private static long FoldedLayerNormBytes(ModelConfig c)
    {
        if (c.ArchitectureName != "PhiForCausalLM") return 0;
        long rows = c.VocabSize;
        for (int l = 0; l < c.NumLayers; l++)
        {
            var s = c.Layer(l);
            rows += (long)(s.NumHeads + 2 * s.NumKvHeads) * c.HeadDim + s.IntermediateSize;
        }
        return 2 * 4 * rows;
    }

    private static long FusedPrefillBytes(ModelConfig c, Widths w, int prompt, DType weights)
    {
        if (prompt < 2) return 0; // one token runs the decode step
        int es = weights == DType.BF16 ? 4 : weights.SizeOf();
        int d = c.HiddenSize;
        var largest = new long[10];
        long split = 0;
        for (int done = 0; done < prompt;)
        {
            // CudaEngine.Append asks ChunkRows with keys = the cache's length so far + the whole prompt.
            long bound = done + prompt;
            int rows = (int)Math.Max(1, Math.Min(Math.Min(prompt - done, FusedChunkRows), (1L << 28) / (w.Heads * bound)));
            long r = rows, keys = done + rows;
            long[] sizes =
            [
                r * 4, r * d * 4, r * Math.Max(d, w.Query) * es, r * w.Fused * 4, r * w.Mlp * es, r * w.Query * 2,
                w.Heads * r * keys * 4, w.Heads * r * keys * 2, r * w.Query * 4, r * d * 4,
            ];
            for (int i = 0; i < sizes.Length; i++) largest[i] = Math.Max(largest[i], sizes[i]);
            split = Math.Max(split, r * Math.Max(d, Math.Max(w.Query, w.Mlp)) * 2);
            done += rows;
        }
        return largest.Sum(b => Math.Max(b, 256)) + (weights == DType.BF16 ? 2 * Math.Max(split, 256) : 0);
    }

    /// <summary>
    /// The widest layer's widths: query heads and their channels, key/value channels, the MLP, the fused engine's projection rows (its "y"
    /// buffer: q|k|v, with fc1 for Phi, or gate|up when wider), and the backend's widest covering product.
    /// </summary>
    private sealed record Widths(int Heads, int Query, int Kv, int Mlp, int Fused, int Covering, int CoveringOneRow)
    {
        public static Widths Of(ModelConfig c)
        {
            int hd = c.HeadDim, heads = 0, query = 0, kvWidth = 0, mlp = 0, fused = 0, covering = 0, one = 0;
            for (int l = 0; l < c.NumLayers; l++)
            {
                var s = c.Layer(l);
                int q = s.NumHeads * hd, kv = s.NumKvHeads * hd, f = s.IntermediateSize;
                heads = Math.Max(heads, s.NumHeads);
                query = Math.Max(query, q);
                kvWidth = Math.Max(kvWidth, kv);
                mlp = Math.Max(mlp, f);
                (int y, int cover, int cover1) = c.ArchitectureName switch
                {
                    "LlamaForCausalLM" or "Qwen2ForCausalLM" => (Math.Max(q + 2 * kv, 2 * f), q + kv, Math.Max(q + kv, 2 * f)),
                    "PhiForCausalLM" => (q + 2 * kv + f, q + kv, q + kv),
                    "QWenLMHeadModel" => (Math.Max(3 * q, 2 * f), 3 * q, Math.Max(3 * q, 2 * f)),
                    _ => (0, 0, 0),
                };
                fused = Math.Max(fused, y);
                covering = Math.Max(covering, cover);
                one = Math.Max(one, cover1);
            }
            return new(heads, query, kvWidth, mlp, fused, covering, one);
        }
    }

    private static long Ceil(long value, long unit) => (value + unit - 1) / unit;
}
