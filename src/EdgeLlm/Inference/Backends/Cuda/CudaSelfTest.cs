using EdgeLlm.Calibration;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>One comparison: what was measured, against what limit.</summary>
public sealed record SelfTestCheck(string Fixture, string Name, double Value, double Limit, bool Passed, string Detail = "");

/// <summary>
/// Checks the CUDA engine against reference outputs on the device it runs on: each hf-tiny fixture's
/// <c>expected.safetensors</c> (transformers, float32) and the CPU engine on the same weights, and the
/// trained fixture's perplexity windows. The GPU tests and <c>edgellm gpu-selftest</c> both run these.
/// </summary>
/// <remarks>
/// Limits. Everything runs on the weights as stored, with float32 accumulation; the rounding that remains
/// is in the activations the device keeps in 16 bits: the float16 KV cache and attention operands
/// (relative 2^-11 on each key, value, query and probability) everywhere, and in prefill the GEMM inputs,
/// rounded to float16 for float16 weights (2^-11) and split into two bfloat16 parts for bfloat16 weights
/// (about 2^-16). Over three layers that moves logits of magnitude ~10 by a few hundredths: the limits are
/// 0.02 (float32 weights), 0.05 (float16) and 0.1 (bfloat16) absolute on logits, half of that on
/// log-likelihoods, the same for one-token decoding (float32 activations, but it reads the prefilled cache).
/// Greedy tokens must be identical unless transformers' own top two logits are within 1e-3.
/// </remarks>
public static partial class CudaSelfTest
{
    public static double LogitLimit(DType dtype) => dtype switch { DType.F32 => 0.02, DType.F16 => 0.05, _ => 0.1 };

    /// <summary>Runs every check for an hf-tiny fixture folder (config, weights, expected.safetensors).</summary>
    public static IReadOnlyList<SelfTestCheck> Fixture(string folder, DeviceSelection device)
    {
        string name = Path.GetFileName(folder.TrimEnd('/'));
        var checks = new List<SelfTestCheck>();
        using var expected = SafeTensorsFile.Open(Path.Combine(folder, "expected.safetensors"));
        using var gpu = CausalLM.Load(folder, new EngineOptions { Device = device });
        var engine = gpu.Cuda; // null for families the fused engine does not know (Mistral): the backend runs everything
        using var cpu = CausalLM.Load(folder);
        double limit = LogitLimit(gpu.Checkpoint.Tensors.Values.Where(t => t.Rank == 2).Select(t => t.DType).Max());
        int vocab = gpu.VocabSize;

        foreach (var n in new[] { 1, 7, 33, 130 })
        {
            if (!expected.Contains($"logits_len{n}")) continue; // the Mistral references hold logits of length 130 only
            var ids = Ids(expected, $"ids_len{n}");
            var logits = gpu.ForwardAll(gpu.NewCache(n), ids);
            var reference = expected[$"logits_len{n}"].ToFloatArray();
            var cpuLogits = cpu.ForwardAll(cpu.NewCache(n), ids);
            checks.Add(Check(name, $"full forward len {n} vs transformers", MaxAbsDiff(logits, reference), limit));
            checks.Add(Check(name, $"full forward len {n} vs CPU engine", MaxAbsDiff(logits, cpuLogits), limit));
        }

        // Decoding one token at a time (the matrix-vector path) against the CPU engine's full forward.
        {
            var ids = Ids(expected, "ids_len33");
            var full = cpu.ForwardAll(cpu.NewCache(33), ids);
            var cache = gpu.NewCache(4); // grows while decoding
            gpu.Forward(cache, ids.AsSpan(0, 10));
            double worst = 0;
            for (int t = 10; t < ids.Length; t++)
                worst = Math.Max(worst, MaxAbsDiff(gpu.Forward(cache, ids.AsSpan(t, 1)), full.AsSpan(t * vocab, vocab)));
            checks.Add(Check(name, "incremental decode vs CPU full forward", worst, limit));
        }

        {
            var lp = new Scorer(gpu).LogProbs(Ids(expected, "ids_len33"));
            checks.Add(Check(name, "log-likelihoods len 33 vs transformers", MaxAbsDiff(lp, expected["loglik_len33"].ToFloatArray()), limit / 2));
        }

        var prompt = Ids(expected, "greedy_prompt");
        var want = Ids(expected, "greedy_out");
        var refLogits = expected["greedy_logits"].ToFloatArray();
        var options = new GenerationOptions { MaxNewTokens = want.Length, StopAtEos = false };
        string path = engine != null ? "fused engine, graph" : "backend";
        var graph = new Generator(gpu).Greedy(prompt, options);
        checks.Add(GreedyCheck(name, $"greedy tokens ({path}) vs transformers", graph.Tokens, want, refLogits, vocab));
        if (engine != null)
        {
            // Kernel by kernel (no graph), with one of the engine's switches flipped for the run and then restored.
            int[] Launched(Action flip)
            {
                engine.UseGraphs = false;
                flip();
                try { return new Generator(gpu).Greedy(prompt, options).Tokens; }
                finally { flip(); engine.UseGraphs = true; }
            }
            SelfTestCheck Same(string what, int[] a, int[] b)
            {
                int differing = a.Zip(b).Count(p => p.First != p.Second) + Math.Abs(a.Length - b.Length);
                return new SelfTestCheck(name, what + " (tokens differing)", differing, 0, differing == 0);
            }
            var direct = Launched(() => { });
            checks.Add(Same("graph replay == kernel-by-kernel launch", graph.Tokens, direct));
            // Overlapped launches (programmatic dependent launch) against strictly serialised ones.
            if (engine.Device.ProgrammaticLaunch)
                checks.Add(Same("overlapped launches (PDL) == serialised launches", direct,
                    Launched(() => engine.Device.ProgrammaticLaunch = !engine.Device.ProgrammaticLaunch)));
            // The splits combined by each head's last block and Phi's dense|fc2 as one product, against each its own kernel.
            checks.Add(Same("fused decode kernels == one kernel per step", direct, Launched(() => engine.FuseDecode = !engine.FuseDecode)));
            // Phi: attention splits run by the fc1 kernel's first blocks against attention after q|k|v|fc1 (the same splits).
            if (engine.Style == BlockStyle.Parallel)
                checks.Add(Same("attention beside fc1 == attention after q|k|v|fc1", direct,
                    Launched(() => engine.AttentionBesideMlp = !engine.AttentionBesideMlp)));
            // The norms' other placements (folded into the products, or their own kernels): the same sums in other float32 roundings.
            var norms = engine.NormFold;
            foreach (var other in Enum.GetValues<NormFolding>().Where(n => n != norms))
                checks.Add(GreedyCheck(name, $"greedy tokens: norms {norms} vs {other}", direct,
                    Launched(() => engine.NormFold = engine.NormFold == norms ? other : norms), refLogits, vocab));
            checks.Add(QueuedSteps(name, engine, prompt, want.Length));
            // The matrix-vector kernels' persistent grids, capped at 3 blocks so that each runs many row groups, against one
            // block per group; x in registers against x through L1: the same sums in the same order.
            int? multi = engine.GemvBlocksPerSm;
            int single = engine.GemvOneRoundBlocksPerSm;
            bool blocksOn = false, gridOn = false;
            void Blocks() { blocksOn = !blocksOn; (engine.GemvBlocksPerSm, engine.GemvOneRoundBlocksPerSm) = blocksOn ? (0, 0) : (multi, single); }
            void Grid() { gridOn = !gridOn; (engine.GemvBlocksPerSm, engine.GemvOneRoundBlocksPerSm, engine.GemvMaxBlocks) = gridOn ? (3, 3, 3) : (multi, single, int.MaxValue); }
            void Registers() => engine.GemvOneRound = !engine.GemvOneRound;
            var blocks = Launched(Blocks);
            checks.Add(Same("persistent matrix-vector grids (3 blocks) == one block per row group", blocks, Launched(Grid)));
            checks.Add(Same("persistent grids: x through L1 == x in registers", blocks, Launched(() => { Grid(); Registers(); })));
        }
        if (engine != null) checks.AddRange(MatrixVector(name, engine));
        var cpuGreedy = new Generator(cpu).Greedy(prompt, options);
        checks.Add(GreedyCheck(name, $"greedy tokens ({path}) vs CPU engine", graph.Tokens, cpuGreedy.Tokens, refLogits, vocab));
        checks.AddRange(BackendChecks(name, gpu, cpu, expected, limit));
        return checks;
    }

    /// <summary>
    /// The greedy decoder's queued steps (each one's input the argmax the device left) against a decoder told to expect one
    /// token, which queues none, so that every step is fed from the host: the same calls, with one token forced midway
    /// (the queued step must then be dropped, and the forced token's step run).
    /// </summary>
    private static SelfTestCheck QueuedSteps(string fixture, CudaEngine engine, int[] prompt, int steps)
    {
        int[] Run(int expect)
        {
            var decoder = engine.GreedyDecoder(engine.NewCache(prompt.Length + steps + 1));
            var tokens = new List<int> { decoder.First(prompt, expect, CancellationToken.None) };
            for (int i = 1; i < steps; i++)
            {
                int input = i == steps / 2 ? (tokens[^1] + 1) % engine.VocabSize : tokens[^1];
                tokens.Add(decoder.Next(input));
            }
            return tokens.ToArray();
        }
        var queued = Run(steps);
        var fed = Run(1);
        int differing = queued.Zip(fed).Count(p => p.First != p.Second) + Math.Abs(queued.Length - fed.Length);
        return new SelfTestCheck(fixture, "greedy decoder: queued steps == steps fed by the host, one token forced (tokens differing)",
            differing, 0, differing == 0);
    }

    /// <summary>
    /// The matrix-vector kernels at the real models' widths (fixtures are one round of loads per row; these are up to 3.5):
    /// random float16 W and float32 x against the product in float64 on the host, relative to Σ|w·x| of the row (float32
    /// accumulation over 14,336 terms: a few 1e-7 expected, limit 1e-5), with one block per row group and persistent grids of 3
    /// blocks, x in registers or through L1; every launch must give the same bits as the first.
    /// </summary>
    private static IEnumerable<SelfTestCheck> MatrixVector(string fixture, CudaEngine engine)
    {
        if (engine.WeightDType != DType.F16) yield break;
        var random = new Random(7);
        var device = engine.Device;
        foreach (var (n, k, k2) in new[] { (518, 2560, 0), (130, 14336, 0), (130, 2560, 10240) })
        {
            var w = new Half[n * (k + k2)];
            var x = new float[k + k2];
            for (int i = 0; i < w.Length; i++) w[i] = (Half)(random.NextDouble() * 2 - 1);
            for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
            // W is [n, k] then W2 [n, k2]; the host reference reads row r as W's row then W2's.
            double worst = 0;
            var want = new double[n];
            var scale = new double[n];
            for (int r = 0; r < n; r++)
                for (int c = 0; c < k + k2; c++)
                {
                    double wv = c < k ? (double)w[r * k + c] : (double)w[n * k + r * k2 + (c - k)];
                    want[r] += wv * x[c];
                    scale[r] += Math.Abs(wv * x[c]);
                }
            ulong dw = device.Alloc(w.Length * 2L, "probe w"), dx = device.Alloc(x.Length * 4L, "probe x"), dy = device.Alloc(n * 4L, "probe y");
            float[]? first = null;
            int differing = 0, runs = 0;
            try
            {
                device.Upload<Half>(dw, w);
                device.Upload<float>(dx, x);
                var saved = (engine.GemvBlocksPerSm, engine.GemvOneRoundBlocksPerSm, engine.GemvMaxBlocks, engine.GemvOneRound);
                foreach (var config in new (int?, int, int, bool)[] { (0, 0, int.MaxValue, true), (3, 3, 3, true), (3, 3, 3, false), (0, 0, int.MaxValue, false) })
                {
                    (engine.GemvBlocksPerSm, engine.GemvOneRoundBlocksPerSm, engine.GemvMaxBlocks, engine.GemvOneRound) = config;
                    try { engine.GemvProbe(dw, dx, k2 > 0 ? dw + (ulong)(n * k * 2L) : 0, k2 > 0 ? dx + (ulong)(k * 4L) : 0, dy, n, k, k2); }
                    finally { (engine.GemvBlocksPerSm, engine.GemvOneRoundBlocksPerSm, engine.GemvMaxBlocks, engine.GemvOneRound) = saved; }
                    var y = new float[n];
                    device.Download<float>(y, dy);
                    runs++;
                    for (int r = 0; r < n; r++) worst = Math.Max(worst, Math.Abs(y[r] - want[r]) / Math.Max(scale[r], 1e-30));
                    first ??= y;
                    differing += y.Zip(first).Count(p => BitConverter.SingleToInt32Bits(p.First) != BitConverter.SingleToInt32Bits(p.Second));
                }
            }
            finally { device.Free(dw); device.Free(dx); device.Free(dy); }
            string shape = k2 > 0 ? $"{n} × ({k} + {k2})" : $"{n} × {k}";
            yield return Check(fixture, $"matrix-vector {shape} vs float64 host (relative to Σ|w·x|)", worst, 1e-5, $"{runs} launch configurations");
            yield return new SelfTestCheck(fixture, $"matrix-vector {shape}: grids and x paths give the same bits (values differing)", differing, 0, differing == 0);
        }
        foreach (bool produced in new[] { false, true })
            foreach (bool layerNorm in new[] { false, true })
                yield return NormedMatrixVector(fixture, engine, random, layerNorm, produced);
    }

    /// <summary>
    /// A norm folded into the matrix-vector kernel (<see cref="CudaEngine.NormFold"/>) at Phi-2's width: random float16 W [518, 2560],
    /// x with a mean of 0.3, γ and β, against RMSNorm or LayerNorm then the product in float64 on the host, relative to
    /// Σ|w·norm(x)| of the row (limit 1e-5), with one block per row group and with persistent grids of 3 blocks. With
    /// <paramref name="produced"/>, x is first made by a residual-add product (x += W₁·v, W₁ [2560, 256]) that leaves x·γ and
    /// the statistics for the next (<see cref="NormFolding.FromProducer"/>); otherwise the product reads x and γ itself.
    /// </summary>
    private static SelfTestCheck NormedMatrixVector(string fixture, CudaEngine engine, Random random, bool layerNorm, bool produced)
    {
        const int n = 518, k = 2560, m = 256;
        const float eps = 1e-5f;
        var w = new Half[n * k];
        var x = new float[k];
        var gamma = new float[k];
        var beta = new float[k];
        for (int i = 0; i < w.Length; i++) w[i] = (Half)(random.NextDouble() * 2 - 1);
        for (int i = 0; i < k; i++)
        {
            x[i] = (float)(0.3 + 2 * (random.NextDouble() - 0.5));
            gamma[i] = (float)(0.5 + random.NextDouble());
            beta[i] = layerNorm ? (float)(random.NextDouble() - 0.5) : 0f;
        }
        var w1 = new Half[k * m];
        var v1 = new float[m];
        for (int i = 0; i < w1.Length; i++) w1[i] = (Half)((random.NextDouble() * 2 - 1) * 0.05);
        for (int i = 0; i < m; i++) v1[i] = (float)(random.NextDouble() * 2 - 1);
        var residual = new double[k];
        for (int i = 0; i < k; i++)
        {
            residual[i] = x[i];
            if (produced)
                for (int j = 0; j < m; j++) residual[i] += (double)w1[i * m + j] * v1[j];
        }
        double mean = layerNorm ? residual.Average() : 0;
        double rstd = 1 / Math.Sqrt(residual.Average(v => (v - mean) * (v - mean)) + eps);
        var normed = Enumerable.Range(0, k).Select(i => (residual[i] - mean) * rstd * gamma[i] + beta[i]).ToArray();
        var device = engine.Device;
        ulong dw = device.Alloc(w.Length * 2L, "probe w"), dx = device.Alloc(k * 4L, "probe x"), dy = device.Alloc(n * 4L, "probe y");
        ulong dg = device.Alloc(k * 4L, "probe γ"), db = device.Alloc(k * 4L, "probe β");
        ulong dw1 = device.Alloc(w1.Length * 2L, "probe w1"), dv1 = device.Alloc(m * 4L, "probe v"), dxg = device.Alloc(k * 4L, "probe x·γ");
        ulong parts = device.Alloc(8L * k, "probe statistics");
        double worst = 0;
        try
        {
            device.Upload<Half>(dw, w);
            device.Upload<float>(dg, gamma);
            device.Upload<float>(db, beta);
            device.Upload<Half>(dw1, w1);
            device.Upload<float>(dv1, v1);
            var (wg, bias) = layerNorm ? engine.FoldLayerNorm(dw, n, dg, db, 0, "probe", k) : (0UL, 0UL);
            var saved = (engine.GemvBlocksPerSm, engine.GemvOneRoundBlocksPerSm, engine.GemvMaxBlocks);
            try
            {
                foreach (var config in new (int?, int, int)[] { (0, 0, int.MaxValue), (3, 3, 3) })
                {
                    (engine.GemvBlocksPerSm, engine.GemvOneRoundBlocksPerSm, engine.GemvMaxBlocks) = config;
                    device.Upload<float>(dx, x);
                    if (produced) engine.GemvProbeProduced(dw1, dv1, m, dx, dg, dxg, parts, dw, dy, n, k, wg, bias, layerNorm, eps);
                    else engine.GemvProbeNormed(dw, dx, dy, n, k, dg, wg, bias, layerNorm, eps);
                    var y = new float[n];
                    device.Download<float>(y, dy);
                    for (int r = 0; r < n; r++)
                    {
                        double want = 0, scale = 0;
                        for (int c = 0; c < k; c++) { double t = (double)w[r * k + c] * normed[c]; want += t; scale += Math.Abs(t); }
                        worst = Math.Max(worst, Math.Abs(y[r] - want) / scale);
                    }
                }
            }
            finally
            {
                (engine.GemvBlocksPerSm, engine.GemvOneRoundBlocksPerSm, engine.GemvMaxBlocks) = saved;
                if (wg != 0) { device.Free(wg); device.Free(bias); }
            }
        }
        finally
        {
            foreach (var p in new[] { dw, dx, dy, dg, db, dw1, dv1, dxg, parts }) device.Free(p);
        }
        string how = produced ? "its statistics from a residual-add product" : "folded in";
        return Check(fixture, $"matrix-vector {n} × {k}, {(layerNorm ? "LayerNorm" : "RMSNorm")} {how}, vs float64 host (relative to Σ|w·norm(x)|)",
            worst, 1e-5, "2 launch configurations");
    }

    /// <summary>The trained fixture: perplexity windows against transformers' window NLLs and the CPU engine.</summary>
    public static IReadOnlyList<SelfTestCheck> Perplexity(string folder, DeviceSelection device, int windows = 16)
    {
        string name = Path.GetFileName(folder.TrimEnd('/'));
        using var expected = SafeTensorsFile.Open(Path.Combine(folder, "expected-perplexity.safetensors"));
        var all = expected["val_windows"].ToInt64Array();
        int length = (int)expected["val_windows"].Shape[1];
        var ids = Enumerable.Range(0, windows).Select(w => all.Skip(w * length).Take(length).Select(v => (int)v).ToArray()).ToList();
        var refNll = expected["val_window_nll"].ToFloatArray().Take(windows).Select(v => (double)v).ToArray();
        double refPpl = Math.Exp(refNll.Average());
        using var gpu = CausalLM.Load(folder, new EngineOptions { Device = device });
        using var cpu = CausalLM.Load(folder);
        var g = Calibration.Perplexity.Evaluate(gpu, ids);
        var c = Calibration.Perplexity.Evaluate(cpu, ids);
        return
        [
            Check(name, $"perplexity of {windows} windows vs CPU engine (relative)", Math.Abs(g.Perplexity / c.Perplexity - 1), 0.002,
                $"cuda {g.Perplexity:F4}, cpu {c.Perplexity:F4}, transformers {refPpl:F4}"),
            Check(name, $"perplexity of {windows} windows vs transformers (relative)", Math.Abs(g.Perplexity / refPpl - 1), 0.002,
                $"cuda {g.Perplexity:F4}, transformers {refPpl:F4}"),
        ];
    }

    /// <summary>A clear error, not a failed allocation, when asked for a device that is not there.</summary>
    public static SelfTestCheck MissingDevice(string folder)
    {
        int count = CudaDevice.List().Count;
        try
        {
            using var m = CausalLM.Load(folder, new EngineOptions { Device = new DeviceSelection(true, count + 6) });
            return new SelfTestCheck("-", $"--device cuda:{count + 6} refused", 0, 1, false, "loaded a model on a device that does not exist");
        }
        catch (CudaUnavailableException e)
        {
            bool ok = e.Message.Contains("cuda:0", StringComparison.Ordinal);
            return new SelfTestCheck("-", $"--device cuda:{count + 6} refused, naming the devices seen", 1, 1, ok, e.Message);
        }
    }

    private static SelfTestCheck GreedyCheck(string fixture, string what, int[] got, int[] want, float[] refLogits, int vocab)
    {
        int vocabRows = refLogits.Length / vocab;
        for (int t = 0; t < Math.Min(got.Length, want.Length); t++)
        {
            if (got[t] == want[t]) continue;
            if (t < vocabRows)
            {
                var top = refLogits.AsSpan(t * vocab, vocab).ToArray().OrderDescending().Take(2).ToArray();
                if (top[0] - top[1] < 1e-3f)
                    return new SelfTestCheck(fixture, what, t, want.Length, true, $"diverged at step {t} on a reference tie ({top[0] - top[1]:G3})");
            }
            return new SelfTestCheck(fixture, what, t, want.Length, false, $"step {t}: got {got[t]}, expected {want[t]}");
        }
        bool same = got.Length == want.Length;
        return new SelfTestCheck(fixture, what, got.Length, want.Length, same, same ? "identical" : $"{got.Length} tokens for {want.Length}");
    }

    private static SelfTestCheck Check(string fixture, string what, double value, double limit, string detail = "") =>
        new(fixture, what, value, limit, value <= limit && !double.IsNaN(value), detail);

    private static int[] Ids(SafeTensorsFile f, string name) => f[name].ToInt64Array().Select(v => (int)v).ToArray();

    private static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs(a[i] - b[i]);
            if (double.IsNaN(d)) return double.NaN;
            max = Math.Max(max, d);
        }
        return max;
    }
}
