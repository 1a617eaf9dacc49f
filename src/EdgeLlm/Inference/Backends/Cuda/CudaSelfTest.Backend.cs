using System.Numerics.Tensors;
using EdgeLlm.Calibration;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>
/// The checks of <see cref="CudaBackend"/> that go beyond one sequence: weight residency, many sequences in one step
/// against each alone, the device argmax against the host's, batched greedy decoding, calibration observers, and calibration's
/// statistics accumulated on the device.
/// </summary>
/// <remarks>
/// Limits. Prefill rows of several sequences stacked in one step go through the same kernels as each sequence alone;
/// only cuBLAS may pick another algorithm for another row count (float32 accumulation order): 1e-3 absolute on logits.
/// One decode row alone runs the matrix-vector kernel on float32 input, several rows a GEMM on 16-bit input, so
/// batched decode rows differ from lone ones by the input rounding the fixture limits already allow
/// (<see cref="LogitLimit"/>). The device argmax reads the same device logits as the host would: identical tokens.
/// Batched greedy tokens equal lone ones unless the CPU engine's top two logits at the first difference lie within
/// twice the logit limit (a near-tie, reported in the detail).
/// </remarks>
public static partial class CudaSelfTest
{
    private static IEnumerable<SelfTestCheck> BackendChecks(string name, CausalLM gpu, CausalLM cpu, SafeTensorsFile expected, double limit)
    {
        var backend = (CudaBackend)gpu.Backend;
        long stored = gpu.Checkpoint.Tensors.Values.Where(t => t.Rank == 2).Sum(t => t.ByteLength);
        long onDevice = (gpu.Cuda?.DeviceWeightBytes ?? 0) + backend.OwnMatrixBytes;
        yield return Check(name, "device weight bytes / stored matrix bytes (resident once)", onDevice / (double)stored, 1.0001,
            $"engine {gpu.Cuda?.DeviceWeightBytes ?? 0:N0} B + backend's own {backend.OwnMatrixBytes:N0} B for {stored:N0} B stored; " +
            $"{backend.SharedMatrixBytes:N0} B read through the engine's buffers");

        int vocab = gpu.VocabSize;
        var long130 = Ids(expected, "ids_len130");
        var short7 = expected.Contains("ids_len7") ? Ids(expected, "ids_len7") : long130[100..107];
        int[][] prompts = [long130[..40], Ids(expected, "ids_len33"), short7];

        // Prefill: three sequences in one step against each alone.
        var alone = prompts.Select(p => gpu.ForwardAll(gpu.NewCache(p.Length), p)).ToArray();
        var caches = prompts.Select(p => gpu.NewCache(p.Length)).ToArray();
        var hidden = gpu.ForwardHidden(prompts.Select((p, i) => new Segment(caches[i], p)).ToList());
        var together = new float[prompts.Sum(p => p.Length) * vocab];
        gpu.Logits(hidden, prompts.Sum(p => p.Length), together);
        yield return Check(name, "3 sequences prefilled in one step == each alone", MaxAbsDiff(together, alone.SelectMany(a => a).ToArray()), 1e-3);

        // Prompt chunks through cuBLAS (float16 queries and probabilities) against the scalar tiled kernel (float32 throughout),
        // on a step of three fresh prompts and a second chunk of 60 rows after 70 cached positions; then with the rows taken
        // 7 at a time (a score budget of heads · 7 · keys). The limit is the fixture's logit limit: 16-bit rounding of q and P.
        // Float32 fixtures attend through the tiled kernel only.
        if (backend.GemmPrefillAttention)
        {
            bool chosen = backend.UseGemmPrefillAttention;
            float[] PromptStep(bool gemm, long? budget)
            {
                backend.UseGemmPrefillAttention = gemm;
                backend.PrefillScoreFloatsOverride = budget;
                try
                {
                    var fresh = prompts.Select(p => gpu.NewCache(p.Length)).ToArray();
                    var first = gpu.NewCache(long130.Length);
                    gpu.ForwardHidden([new Segment(first, long130[..70])]);
                    var segs = prompts.Select((p, i) => new Segment(fresh[i], p)).Append(new Segment(first, long130[70..])).ToList();
                    int rows = segs.Sum(x => x.Tokens.Length);
                    var l = new float[rows * vocab];
                    gpu.Logits(gpu.ForwardHidden(segs), rows, l);
                    return l;
                }
                finally { backend.UseGemmPrefillAttention = chosen; backend.PrefillScoreFloatsOverride = null; }
            }
            var tiledPrompt = PromptStep(false, null);
            yield return Check(name, "prompt chunks: attention through cuBLAS == tiled kernel (logits)", MaxAbsDiff(PromptStep(true, null), tiledPrompt), limit);
            long parts = (long)Enumerable.Range(0, gpu.Config.NumLayers).Max(l => gpu.Config.Layer(l).NumHeads) * 7 * long130.Length;
            yield return Check(name, "prompt chunks: cuBLAS attention, rows 7 at a time == tiled kernel (logits)", MaxAbsDiff(PromptStep(true, parts), tiledPrompt), limit);
        }

        // Decode: 6 teacher-forced steps of all three together against each alone and against the CPU's full forward.
        var lone = prompts.Select(p => { var c = gpu.NewCache(p.Length + 8); gpu.Forward(c, p); return c; }).ToArray();
        double worstLone = 0, worstCpu = 0;
        for (int t = 0; t < 6; t++)
        {
            var tokens = prompts.Select((p, i) => long130[(40 + 7 * i + t) % long130.Length]).ToArray();
            var h = gpu.ForwardHidden(tokens.Select((tok, i) => new Segment(caches[i], [tok])).ToList());
            var batched = new float[3 * vocab];
            gpu.Logits(h, 3, batched);
            for (int i = 0; i < 3; i++)
            {
                var single = gpu.Forward(lone[i], [tokens[i]]);
                worstLone = Math.Max(worstLone, MaxAbsDiff(batched.AsSpan(i * vocab, vocab), single));
            }
            if (t == 5)
                for (int i = 0; i < 3; i++)
                {
                    var sequence = prompts[i].Concat(Enumerable.Range(0, 6).Select(s => long130[(40 + 7 * i + s) % long130.Length])).ToArray();
                    var reference = cpu.ForwardAll(cpu.NewCache(sequence.Length), sequence);
                    worstCpu = Math.Max(worstCpu, MaxAbsDiff(batched.AsSpan(i * vocab, vocab), reference.AsSpan((sequence.Length - 1) * vocab, vocab)));
                }
        }
        yield return Check(name, "3 sequences decoded in one step == each alone", worstLone, limit);
        yield return Check(name, "3 sequences decoded in one step vs CPU full forward", worstCpu, limit);

        // Decode rows: the flash-decoding kernel with one split, three, and as many as the step shape picks, against the
        // tiled kernel every prompt chunk runs, on the same step. Both accumulate in float32 and differ only in summation
        // order, but the attention output is rounded to 16 bits for the next GEMM, where an order-of-summation difference
        // can flip a rounding (float16 fixtures: 0.001–0.002 on the logits), so the limit is the fixture's logit limit.
        {
            int[][] dp = [long130, long130[..70], short7];
            var dc = dp.Select(p => { var c = gpu.NewCache(p.Length + 2); gpu.ForwardHidden([new Segment(c, p)]); return c; }).ToArray();
            int[] next = [11, 12, 13];
            int version = backend.DecodeKernelVersion;
            float[] DecodeStep(bool decodeKernel, int? splits, int kernel = 2)
            {
                var clones = dc.Select(c => c.Clone()).ToArray();
                backend.UseDecodeKernel = decodeKernel;
                backend.DecodeSplitsOverride = splits;
                backend.DecodeKernelVersion = kernel;
                try
                {
                    var h = gpu.ForwardHidden(next.Select((tok, i) => new Segment(clones[i], [tok])).ToList());
                    var l = new float[3 * vocab];
                    gpu.Logits(h, 3, l);
                    return l;
                }
                finally { backend.UseDecodeKernel = true; backend.DecodeSplitsOverride = null; backend.DecodeKernelVersion = version; }
            }
            var tiled = DecodeStep(false, null);
            foreach (int kernel in new[] { 2, 1 })
                foreach (int? splits in new int?[] { 1, 3, null })
                    yield return Check(name, $"decode rows: flash-decoding v{kernel} ({(splits is { } n ? $"{n} split(s)" : "splits as chosen")}) == tiled kernel",
                        MaxAbsDiff(DecodeStep(true, splits, kernel), tiled), limit);
        }

        // The device argmax against the host argmax of the same logits (caches cloned so both see the same state).
        {
            var clones = caches.Select(c => c.Clone()).ToArray();
            int[] next = [5, 17, 400];
            var device = gpu.GreedyNext(next.Select((tok, i) => new Segment(caches[i], [tok])).ToList());
            var h = gpu.ForwardHidden(next.Select((tok, i) => new Segment(clones[i], [tok])).ToList());
            var logits = new float[3 * vocab];
            gpu.Logits(h, 3, logits);
            var host = Enumerable.Range(0, 3).Select(i => TensorPrimitives.IndexOfMax<float>(logits.AsSpan(i * vocab, vocab))).ToArray();
            int differing = device.Zip(host).Count(p => p.First != p.Second);
            yield return new SelfTestCheck(name, "GreedyNext (device argmax) == host argmax of Logits (tokens differing)", differing, 0, differing == 0,
                $"device {string.Join(",", device)}, host {string.Join(",", host)}");
        }

        // Batched greedy decoding through GreedyNext: the fixture's greedy prompt among two others, 24 steps.
        {
            var greedyPrompt = Ids(expected, "greedy_prompt");
            var want = Ids(expected, "greedy_out");
            int[][] gp = [greedyPrompt, long130[50..61], short7];
            var batched = GreedyLoop(gpu, gp, want.Length);
            int graphsHeld = backend.GraphCount;
            backend.UseGraphs = false;
            var plain = GreedyLoop(gpu, gp, want.Length);
            backend.UseGraphs = true;
            int differing = batched.Zip(plain).Sum(p => p.First.Zip(p.Second).Count(t => t.First != t.Second));
            yield return new SelfTestCheck(name, "batched decode graph replay == kernel-by-kernel (tokens differing)", differing, 0,
                differing == 0 && graphsHeld > 0, $"{graphsHeld} graph(s) captured");
            yield return GreedyCheck(name, "batched greedy (GreedyNext, 3 sequences) vs transformers", batched[0], want,
                expected["greedy_logits"].ToFloatArray(), vocab);
            for (int i = 0; i < gp.Length; i++)
            {
                var single = GreedyLoop(gpu, [gp[i]], want.Length)[0];
                yield return NearTieCheck(name, $"batched greedy == alone (sequence {i})", batched[i], single, gp[i], cpu, 2 * limit);
            }
        }

        // Shared prefixes: a share of a cache's blocks (not a copy) continues as a fresh cache would, and keeps its
        // positions when the donor is truncated into the shared part and writes there again (copy on write).
        {
            var donor = gpu.NewCache(80);
            gpu.ForwardHidden([new Segment(donor, long130[..40])]);
            int before = backend.SharedKvBlocks;
            var share = donor.SharePrefix(37, 60); // two whole blocks of 16 shared, the third copied
            int held = backend.SharedKvBlocks - before;
            var fromShare = gpu.Forward(share, long130[50..60]);
            yield return Check(name, "shared prefix: a share continues as a fresh cache (logits)",
                MaxAbsDiff(fromShare, gpu.Forward(gpu.NewCache(), [.. long130[..37], .. long130[50..60]])), 1e-3, $"{held} block(s) held twice");
            donor.Truncate(20);
            gpu.ForwardHidden([new Segment(donor, long130[100..110])]);
            // The reference runs the same chunks through the same kernels (40 rows, truncated to 37, then 10, then one decode row).
            var fresh = gpu.NewCache(60);
            gpu.ForwardHidden([new Segment(fresh, long130[..40])]);
            fresh.Truncate(37);
            gpu.ForwardHidden([new Segment(fresh, long130[50..60])]);
            yield return Check(name, "shared prefix: the share keeps its positions when the donor rewrites them",
                MaxAbsDiff(gpu.Forward(share, [5]), gpu.Forward(fresh, [5])), 1e-3);
            yield return new SelfTestCheck(name, "shared prefix: whole blocks held, not copied (blocks held twice)", held, 2, held == 2, "");
        }

        // The continuous batcher with shared prefixes against the same requests without: the same greedy tokens.
        {
            // Shares of 64, 90 and 69 tokens (a prompt's last token always runs) from the first prompt; the last prompt shares nothing.
            int[][] bp = [long130[..100], [.. long130[..64], .. long130[110..120]], [.. long130[..90], 7, 9], long130[..70], short7];
            var requests = bp.Select(p => new SequenceRequest(p, new GenerationOptions { MaxNewTokens = 12, StopAtEos = false })).ToList();
            BatchProgress? last = null;
            var progress = new InlineProgress<BatchProgress>(p => last = p);
            long prefixRowsBefore = backend.SharedPrefixRowSteps;
            var sharing = new ContinuousBatcher(gpu, new BatcherOptions { MaxBatch = 5, PrefillChunkTokens = 64 }).Run(requests, progress).OrderBy(r => r.Index).ToList();
            long prefixRows = backend.SharedPrefixRowSteps - prefixRowsBefore;
            long sharedTokens = last?.SharedPromptTokens ?? 0;
            var plain = new ContinuousBatcher(gpu, new BatcherOptions { MaxBatch = 5, PrefillChunkTokens = 64, SharedPrefixMinTokens = 0 }).Run(requests).OrderBy(r => r.Index).ToList();
            yield return new SelfTestCheck(name, "batcher: prompt tokens taken from a shared prefix", sharedTokens, 64 + 90 + 69, sharedTokens >= 64 + 90 + 69, "");
            for (int i = 0; i < bp.Length; i++)
                yield return NearTieCheck(name, $"batcher with shared prefixes == without (sequence {i})", sharing[i].Tokens, plain[i].Tokens, bp[i], cpu, 2 * limit);
            bool prefixKernel = backend.UseSharedPrefixAttention && gpu.Config.HeadDim % 8 == 0 && gpu.Config.HeadDim <= 128;
            if (prefixKernel)
                yield return new SelfTestCheck(name, "batcher: decode rows attended through their shared prefix (row-steps)", prefixRows, 1, prefixRows >= 1, "");
        }

        // Decode rows attended to their shared prefix together (be_paged_attention_prefix) against each alone: shares of
        // 64, 80, 96 and 99 of a donor's 100 positions, three teacher-forced steps of all four in one batch, both ways.
        // Only the summation order differs (prefix slots merged with the row's own), so, as for the decode splits above,
        // a flipped 16-bit rounding of the attention output is allowed: the fixture's logit limit (phi-float16: 0.0011).
        {
            var donor = gpu.NewCache(110);
            gpu.ForwardHidden([new Segment(donor, long130[..100])]);
            int[] lengths = [64, 80, 96, 99];
            float[] Run(bool together, out long rowsThrough)
            {
                backend.UseSharedPrefixAttention = together;
                long before = backend.SharedPrefixRowSteps;
                var shares = lengths.Select(n => donor.SharePrefix(n, n + 4)).ToArray();
                var logits = new float[3 * shares.Length * vocab];
                for (int t = 0; t < 3; t++)
                {
                    var h = gpu.ForwardHidden(shares.Select((c, i) => new Segment(c, [long130[(101 + 3 * i + t) % long130.Length]])).ToList());
                    gpu.Logits(h, shares.Length, logits.AsSpan(t * shares.Length * vocab, shares.Length * vocab));
                }
                rowsThrough = backend.SharedPrefixRowSteps - before;
                return logits;
            }
            bool was = backend.UseSharedPrefixAttention;
            var apart = Run(false, out _);
            var joint = Run(true, out long through);
            backend.UseSharedPrefixAttention = was;
            if (gpu.Config.HeadDim % 8 == 0 && gpu.Config.HeadDim <= 128)
            {
                yield return Check(name, "shared-prefix attention == each row alone (logits, 4 shares × 3 steps)", MaxAbsDiff(joint, apart), limit);
                yield return new SelfTestCheck(name, "shared-prefix attention: rows attended through the prefix (row-steps)", through, 12, through == 12, "");
            }
        }

        // Calibration: observers see the same activations on the GPU as on the CPU.
        {
            var ids = Ids(expected, "ids_len33");
            var g = new SumSquares();
            var c = new SumSquares();
            gpu.Observer = g;
            cpu.Observer = c;
            try
            {
                gpu.ForwardHidden([new Segment(gpu.NewCache(ids.Length), ids)]);
                cpu.ForwardHidden([new Segment(cpu.NewCache(ids.Length), ids)]);
            }
            finally { gpu.Observer = null; cpu.Observer = null; }
            double worst = g.Sums.Count == c.Sums.Count && g.Sums.Count > 0
                ? g.Sums.Keys.Max(k => c.Sums.TryGetValue(k, out var v) ? Math.Abs(g.Sums[k] / v - 1) : double.PositiveInfinity)
                : double.PositiveInfinity;
            yield return Check(name, "observer sums of squares vs CPU engine (relative, worst point)", worst, 1e-2, $"{g.Sums.Count} observation points");
        }

        foreach (var check in CalibrationChecks(name, gpu, cpu, expected)) yield return check;
    }

    /// <summary>
    /// Calibration's statistics, accumulated on the device (IBackend.AccumulateColumns, AccumulateRowCosines), against the CPU
    /// engine's over the same samples; and a GPU pass stopped after two samples and resumed from its state file against the
    /// uninterrupted GPU pass.
    /// </summary>
    /// <remarks>
    /// Limits. Each activation the GPU computes agrees with the CPU engine's to about ε, the rounding of the 16-bit GEMM inputs
    /// relative to its row (float16 2⁻¹¹ ≈ 5e-4, bfloat16 2⁻⁸ ≈ 4e-3). Per channel that bounds |ΔΣx²| by about 2ε·Σx² and
    /// |ΔΣx| by ε·Σ|x| ≤ ε·√(n·Σx²) (Cauchy–Schwarz), so the sums are measured relative to √(n·Σx²), the sums of squares relative
    /// to Σx², each plus the layer's mean channel Σx² (the rounding is relative to the row, not to a near-silent channel's
    /// element); each row's cosine moves by about 2ε at most, so the mean cosine per layer is compared absolutely. The limit
    /// 1e-2 covers the bfloat16 rounding with room, as the observer check above. Token counts must be equal. The resumed
    /// pass must equal the uninterrupted one exactly: both run the same kernels on the same rows, the column sums add row
    /// after row onto the running totals (saved and reloaded as float64), the cosines add once per sample.
    /// </remarks>
    private static List<SelfTestCheck> CalibrationChecks(string name, CausalLM gpu, CausalLM cpu, SafeTensorsFile expected)
    {
        var checks = new List<SelfTestCheck>();
        var long130 = Ids(expected, "ids_len130");
        int[][] samples = [long130[..64], long130[64..128], Ids(expected, "ids_len33")];
        var g = Calibrator.Run(gpu, samples);
        var c = Calibrator.Run(cpu, samples);
        double sums = 0, squares = 0, cosine = 0;
        bool counts = g.SamplesDone == c.SamplesDone && g.NumLayers == c.NumLayers;
        for (int l = 0; counts && l < c.NumLayers; l++)
        {
            foreach (var (gs, cs) in new[] { (g.Attention[l], c.Attention[l]), (g.Mlp[l], c.Mlp[l]) })
            {
                counts &= gs.Tokens == cs.Tokens && gs.Width == cs.Width;
                double floor = cs.SumOfSquares.Average();
                for (int j = 0; j < Math.Min(cs.Width, gs.Width); j++)
                {
                    squares = Math.Max(squares, Math.Abs(gs.SumOfSquares[j] - cs.SumOfSquares[j]) / (cs.SumOfSquares[j] + floor));
                    sums = Math.Max(sums, Math.Abs(gs.Sum[j] - cs.Sum[j]) / Math.Sqrt(cs.Tokens * (cs.SumOfSquares[j] + floor)));
                }
            }
            counts &= g.CosineTokens[l] == c.CosineTokens[l];
            cosine = Math.Max(cosine, Math.Abs(g.CosineSum[l] - c.CosineSum[l]) / Math.Max(1, c.CosineTokens[l]));
        }
        string detail = $"{c.NumLayers} layers, {samples.Length} samples, {samples.Sum(s => s.Length)} tokens";
        checks.Add(new SelfTestCheck(name, "calibration on the device: token counts == CPU engine's", counts ? 0 : 1, 0, counts, detail));
        checks.Add(Check(name, "calibration on the device: channel sums vs CPU engine (|Δ Σx| / √(n Σx²), worst channel)", sums, 1e-2, detail));
        checks.Add(Check(name, "calibration on the device: channel sums of squares vs CPU engine (relative, worst channel)", squares, 1e-2, detail));
        checks.Add(Check(name, "calibration on the device: mean block cosine vs CPU engine (absolute, worst layer)", cosine, 1e-2, detail));

        string state = Path.Combine(Path.GetTempPath(), $"edgellm-selftest-calibration-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (var stop = new CancellationTokenSource())
            {
                var afterTwo = new InlineProgress<CalibrationProgress>(p => { if (p.SamplesDone == 2) stop.Cancel(); });
                try { Calibrator.Run(gpu, samples, state, saveEvery: 1, afterTwo, stop.Token); }
                catch (OperationCanceledException) { }
            }
            int savedAt = CalibrationStatistics.Load(state).SamplesDone;
            var resumed = Calibrator.Run(gpu, samples, state, saveEvery: 1);
            var (differing, total, worst) = Differences(g, resumed);
            checks.Add(new SelfTestCheck(name, "calibration on the device: resumed pass == uninterrupted pass (values differing)", differing, 0,
                differing == 0 && savedAt == 2 && resumed.SamplesDone == samples.Length,
                $"stopped after {savedAt} samples; {total} sums compared, worst relative difference {worst:G3}"));
        }
        finally { File.Delete(state); }
        return checks;
    }

    /// <summary>How many sums (and token counts) of two passes differ, how many were compared, and the worst relative difference.</summary>
    private static (int Differing, int Total, double Worst) Differences(CalibrationStatistics a, CalibrationStatistics b)
    {
        int differing = 0, total = 0;
        double worst = 0;
        void Compare(double x, double y)
        {
            total++;
            if (x.Equals(y)) return;
            differing++;
            worst = Math.Max(worst, Math.Abs(x - y) / Math.Max(Math.Abs(x), double.Epsilon));
        }
        for (int l = 0; l < Math.Min(a.NumLayers, b.NumLayers); l++)
        {
            foreach (var (x, y) in new[] { (a.Attention[l], b.Attention[l]), (a.Mlp[l], b.Mlp[l]) })
            {
                Compare(x.Tokens, y.Tokens);
                for (int j = 0; j < Math.Min(x.Width, y.Width); j++) { Compare(x.Sum[j], y.Sum[j]); Compare(x.SumOfSquares[j], y.SumOfSquares[j]); }
            }
            Compare(a.CosineSum[l], b.CosineSum[l]);
            Compare(a.CosineTokens[l], b.CosineTokens[l]);
        }
        if (a.NumLayers != b.NumLayers) differing++;
        return (differing, total, worst);
    }

    /// <summary>Greedy decoding of every prompt at once through <see cref="CausalLM.GreedyNext"/>.</summary>
    private static int[][] GreedyLoop(CausalLM lm, int[][] prompts, int steps)
    {
        var caches = prompts.Select(p => lm.NewCache(p.Length + steps)).ToArray();
        var outputs = prompts.Select(_ => new List<int>()).ToArray();
        var next = lm.GreedyNext(prompts.Select((p, i) => new Segment(caches[i], p)).ToList());
        for (int s = 0; s < steps; s++)
        {
            for (int i = 0; i < prompts.Length; i++) outputs[i].Add(next[i]);
            if (s + 1 < steps) next = lm.GreedyNext(next.Select((tok, i) => new Segment(caches[i], [tok])).ToList());
        }
        return outputs.Select(o => o.ToArray()).ToArray();
    }

    private static SelfTestCheck NearTieCheck(string fixture, string what, int[] got, int[] want, int[] prompt, CausalLM cpu, double tie)
    {
        for (int t = 0; t < Math.Min(got.Length, want.Length); t++)
        {
            if (got[t] == want[t]) continue;
            var prefix = prompt.Concat(want.Take(t)).ToArray();
            var logits = cpu.Forward(cpu.NewCache(prefix.Length), prefix);
            var top = logits.OrderDescending().Take(2).ToArray();
            bool nearTie = top[0] - top[1] < tie;
            return new SelfTestCheck(fixture, what, t, want.Length, nearTie,
                $"step {t}: {got[t]} vs {want[t]}; CPU top-two gap {top[0] - top[1]:G3} {(nearTie ? "(near-tie)" : "")}");
        }
        return new SelfTestCheck(fixture, what, got.Length, want.Length, got.Length == want.Length, "identical");
    }

    /// <summary>Σ x² of every observation point, keyed by kind and layer.</summary>
    private sealed class SumSquares : IActivationObserver
    {
        public Dictionary<string, double> Sums { get; } = new();

        private void Add(string key, float[] x, int rows, int width) =>
            Sums[key] = Sums.GetValueOrDefault(key) + TensorPrimitives.SumOfSquares<float>(x.AsSpan(0, rows * width));

        public void BlockInput(int layer, float[] hidden, int rows, int width) => Add($"in{layer}", hidden, rows, width);

        public void ProjectionInput(int layer, Projection projection, float[] activations, int rows, int width) =>
            Add($"{projection}{layer}", activations, rows, width);

        public void BlockOutput(int layer, float[] hidden, int rows, int width) => Add($"out{layer}", hidden, rows, width);
    }
}
