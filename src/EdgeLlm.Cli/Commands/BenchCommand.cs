using System.CommandLine;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Inference;
using EdgeLlm.Inference.Backends.Cuda;
using EdgeLlm.Profiling;

namespace EdgeLlm.Cli.Commands;

internal static class BenchCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var promptTokens = new Option<int>("--prompt-tokens") { DefaultValueFactory = _ => 128 };
        var newTokens = new Option<int>("--new-tokens") { DefaultValueFactory = _ => 64 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 1, Description = "Sequences decoded together." };
        var repeats = new Option<int>("--repeats") { DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { DefaultValueFactory = _ => 1, Description = "Untimed runs before the measured ones." };
        var device = CommonOptions.Device();
        var longPrefill = new Option<int>("--long-prefill") { DefaultValueFactory = _ => 2048, Description = "CUDA: also time a prefill of this many tokens (0: skip)." };
        var reference = new Option<string?>("--reference") { Description = "CUDA: JSON from tools/reference/transformers_tpot.py on the same weights; its TPOT is printed beside ours." };
        var kit = new Option<bool>("--kit-2024") { Description = "The 2024 starting kit's GPU measurement (EvaluateThrougthputAndMemory.py) on this engine: full forwards of one 2,000-token input at batch 1 (--repeats, default 500), forwards/s and peak memory with the kit's definitions, beside our TPOT (--new-tokens, default 16 here)." };
        var text = new Option<string?>("--text") { Description = "With --kit-2024: the text padded or cut to the input length (the kit uses a Wikipedia article; default: none, BOS then padding — the ids do not change the work)." };
        var inputTokens = new Option<int>("--input-tokens") { DefaultValueFactory = _ => 2000, Description = "With --kit-2024: the input length (the kit's 2000)." };
        var sharedPrefix = new Option<int>("--shared-prefix") { DefaultValueFactory = _ => 0, Description = "CUDA, --batch > 1: every prompt begins with the same this many tokens, and every sequence after the first starts from a share of the first one's cache (a few-shot prefix, as eval shares it)." };
        var store = CommonOptions.Store();
        var json = CommonOptions.Json();
        var command = new Command("bench", "Median TPOT, prefill and decode throughput, peak RSS, against this machine's bandwidth and GEMM limits.")
            { model, promptTokens, newTokens, batch, repeats, warmup, device, longPrefill, reference, kit, text, inputTokens, sharedPrefix, store, json };
        command.SetAction((parse, ct) => Task.FromResult(Output.Guard(() =>
        {
            CommonOptions.CheckStore(parse.GetValue(store));
            var progress = Output.Progress(quiet: false);
            var dir = CommonOptions.ResolveModel(parse.GetValue(model)!);
            var engine = CommonOptions.Engine(parse.GetValue(device)!);
            if (parse.GetValue(kit))
            {
                bool Given(Option o) => parse.GetResult(o) is { Implicit: false };
                return KitBench(dir, engine, new KitThroughputOptions
                {
                    TextFile = parse.GetValue(text), InputTokens = parse.GetValue(inputTokens),
                    Repeats = Given(repeats) ? parse.GetValue(repeats) : 500, NewTokens = Given(newTokens) ? parse.GetValue(newTokens) : 16,
                }, parse.GetValue(json), progress, ct);
            }
            if (parse.GetValue(text) is not null) throw new ArgumentException("--text goes with --kit-2024.");
            if (parse.GetValue(sharedPrefix) != 0 && !(engine.Device.IsCuda && parse.GetValue(batch) > 1))
                throw new ArgumentException("--shared-prefix goes with --device cuda and --batch above 1.");
            if (engine.Device.IsCuda)
            {
                if (parse.GetValue(batch) > 1)
                    return CudaBatchBench(dir, engine, parse.GetValue(batch), parse.GetValue(promptTokens), parse.GetValue(newTokens),
                        parse.GetValue(sharedPrefix), parse.GetValue(repeats), parse.GetValue(warmup), parse.GetValue(reference), parse.GetValue(json), progress, ct);
                return CudaBench(dir, engine, parse.GetValue(promptTokens), parse.GetValue(newTokens), parse.GetValue(repeats),
                    parse.GetValue(warmup), parse.GetValue(longPrefill), parse.GetValue(reference), parse.GetValue(json), progress, ct);
            }
            BenchmarkResult result;
            using (var printer = ProgressPrinter.Start())
                result = ThroughputBenchmark.Measure(dir, new BenchmarkOptions
                {
                    PromptTokens = parse.GetValue(promptTokens), NewTokens = parse.GetValue(newTokens),
                    BatchSize = parse.GetValue(batch), Repeats = parse.GetValue(repeats), Warmup = parse.GetValue(warmup),
                }, progress: printer.Stages(), cancellationToken: ct);
            CommonOptions.Record(parse.GetValue(store), db => db.AddRun(StoreAdapters.BenchmarkRun(StoreAdapters.Identify(dir), result)));
            Output.Write(result, parse.GetValue(json), () =>
            {
                Console.WriteLine($"{result.Model} ({result.Architecture}, {result.DType}, {Output.Bytes(result.WeightBytes)}), batch {result.BatchSize}, prompt {result.PromptTokens}, new {result.NewTokens}");
                Console.WriteLine($"  TPOT {result.TpotMs:F2} ms (p10 {result.TpotMsP10:F2}, p90 {result.TpotMsP90:F2}); decode step {result.DecodeMsPerStep:F2} ms = {result.TpotOverFloor:F2} × the floor at each run's bandwidth ({result.TpotOverFloorAtBestBandwidth:F2} × floor {result.TpotFloorMs:F2} ms at the best)");
                Console.WriteLine($"  prefill {result.PrefillTokensPerSecond:F0} tok/s = {result.PrefillGflops:F1} GFLOP/s ({result.PrefillOverGemm:P0} of GEMM {result.Limits.Fp32GemmGflops:F1}); bandwidth {string.Join(", ", result.Limits.ReadBandwidthSamplesGBps.Select(b => b.ToString("F1")))} GB/s; peak RSS {Output.Bytes(result.PeakRssBytes)} (sampled {Output.Bytes(result.SampledPeakRssBytes)})");
            });
            return 0;
        })));
        return command;
    }
    private static int KitBench(string dir, EngineOptions engine, KitThroughputOptions options, bool json, IProgress<string> progress, CancellationToken ct)
    {
        var r = KitThroughput.Measure(dir, engine, options, progress, ct);
        Output.Write(r, json, () =>
        {
            Console.WriteLine($"{r.Model} on {r.Device}: kit-2024 measurement, {r.InputTokens} input tokens ({r.TextTokens} of text{(r.TextFile is null ? ", no --text" : ", " + r.TextFile)}), {r.Repeats} full forwards at batch 1");
            Console.WriteLine($"  throughput {r.ForwardsPerSecond:F3} forwards/s (mean {r.MeanForwardSeconds * 1000:F2} ms; median {r.MedianForwardSeconds * 1000:F2} ms = {r.MedianForwardsPerSecond:F3}/s)");
            Console.WriteLine($"    {r.ThroughputDefinition}");
            Console.WriteLine($"  peak memory {r.PeakMemoryMiB:F1} MiB ({r.PeakMemoryBytes} bytes)");
            Console.WriteLine($"    ours: {r.MemoryDefinition}");
            Console.WriteLine($"    {r.KitMemoryDefinition}");
            Console.WriteLine($"  TPOT {r.TpotMs:F2} ms (decode {r.DecodeMsPerToken:F2} ms/token), prompt {r.TpotPromptTokens}, new {r.TpotNewTokens}: {r.TpotDefinition}");
            Console.WriteLine("  what the kit's script gets wrong or differs in:");
            foreach (var note in r.KitScriptNotes) Console.WriteLine($"  - {note}");
        });
        return 0;
    }

    /// <summary>Batched greedy decoding through CausalLM.GreedyNext; --reference is tools/reference/transformers_batched.py's JSON.</summary>
    private static int CudaBatchBench(string dir, EngineOptions engine, int batch, int prompt, int newTokens, int sharedPrefix, int repeats, int warmup,
        string? reference, bool json, IProgress<string> progress, CancellationToken ct)
    {
        double? referenceRate = null;
        long? referencePeak = null;
        if (reference != null)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(reference));
            if (doc.RootElement.TryGetProperty("tokens_per_second", out var t))
            {
                referenceRate = t.GetDouble();
                if (doc.RootElement.TryGetProperty("peak_bytes", out var p)) referencePeak = p.GetInt64();
            }
            else if (doc.RootElement.TryGetProperty("error", out var e)) progress.Report($"transformers reference did not run: {e.GetString()}");
            else throw new FormatException($"{reference}: neither tokens_per_second nor error in it");
        }
        progress.Report($"loading {dir} onto {engine.Device}…");
        using var lm = CausalLM.Load(dir, engine);
        var r = CudaBatchBenchmark.Run(lm, new CudaBatchBenchmarkOptions
        {
            Batch = batch, PromptTokens = prompt, NewTokens = newTokens, SharedPrefixTokens = sharedPrefix, Repeats = repeats, Warmup = warmup,
            ReferenceTokensPerSecond = referenceRate, ReferencePeakBytes = referencePeak,
        }, progress, ct);
        Output.Write(r, json, () =>
        {
            Console.WriteLine($"{r.Model} ({r.Architecture}, {r.DType}, {Output.Bytes(r.WeightBytes)}) on {r.Device}, batch {r.Batch}, prompt {r.PromptTokens}{(r.SharedPrefixTokens > 0 ? $" ({r.SharedPrefixTokens} shared)" : "")}, new {r.NewTokens}");
            Console.WriteLine($"  generate {r.GenerateTokensPerSecond:F0} tok/s; decode {r.DecodeTokensPerSecond:F0} tok/s, step {r.DecodeMsPerStep:F3} ms = {r.StepOverFloor:F2} × floor {r.FloorMsPerStep:F3} ms ({r.ReadBandwidthGBps:F0} GB/s); prefill {r.PrefillTokensPerSecond:F0} tok/s");
            Console.WriteLine($"  peak device memory {Output.Bytes(r.PeakDeviceBytes)} (KV pool {Output.Bytes(r.KvPoolBytes)}, scratch {Output.Bytes(r.ScratchBytes)})");
            DeviceMemoryLines(r.Memory);
            if (r.TransformersTokensPerSecond is { } tt) Console.WriteLine($"  transformers {tt:F0} tok/s: {r.SpeedupOverTransformers:F2} × faster");
        });
        return 0;
    }

    /// <summary>The measured peak beside the memory model's prediction for the same run, part by part.</summary>
    private static void DeviceMemoryLines(DeviceMemoryCheck m)
    {
        var p = m.Prediction;
        Console.WriteLine($"  predicted ({p.Runtime}, context {p.Context} × batch {p.Batch}, {p.ActivationRows}-row steps): {Output.Bytes(m.PredictedAllocatedBytes)} allocated = {m.PredictedOverMeasured:F3} × the allocator's peak " +
            $"(weights {Output.Bytes(p.WeightBytes)}, KV {Output.Bytes(p.KvCacheBytes)}, activations {Output.Bytes(p.ActivationBytes)}, workspace {Output.Bytes(p.WorkspaceBytes)})");
        Console.WriteLine($"  driver at the peak: {Output.Bytes(m.DriverUsedAtPeakBytes)} in use of {Output.Bytes(m.DeviceTotalBytes)} ({Output.Bytes(m.DeviceFreeAtPeakBytes)} free), {Output.Bytes(m.OutsideAllocatorBytes)} outside the allocator " +
            $"against {Output.Bytes(p.OverheadBytes)} of predicted overhead; whole prediction {Output.Bytes(m.PredictedDeviceBytes)} = {m.PredictedOverDriverUsed:F3} × in use");
    }

    private static int CudaBench(string dir, EngineOptions engine, int prompt, int newTokens, int repeats, int warmup, int longPrefill,
        string? reference, bool json, IProgress<string> progress, CancellationToken ct)
    {
        double? referenceTpot = null;
        if (reference != null)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(reference));
            if (doc.RootElement.TryGetProperty("tpot_ms", out var t)) referenceTpot = t.GetDouble();
            else if (doc.RootElement.TryGetProperty("error", out var e)) progress.Report($"transformers reference did not run: {e.GetString()}");
            else throw new FormatException($"{reference}: neither tpot_ms nor error in it");
        }
        progress.Report($"loading {dir} onto {engine.Device}…");
        using var lm = CausalLM.Load(dir, engine);
        var r = CudaBenchmark.Run(lm, new CudaBenchmarkOptions
        {
            PromptTokens = prompt, NewTokens = newTokens, Repeats = repeats, Warmup = warmup, LongPrefillTokens = longPrefill,
            ReferenceTpotMs = referenceTpot,
        }, progress, ct);
        Output.Write(r, json, () =>
        {
            Console.WriteLine($"{r.Model} ({r.Architecture}, {r.DType}, {Output.Bytes(r.WeightBytes)}) on {r.Device}, prompt {r.PromptTokens}, new {r.NewTokens}");
            Console.WriteLine($"  TPOT {r.TpotMs:F3} ms = {r.TpotOverFloor:F2} × floor {r.FloorMs:F3} ms (read bandwidth {r.ReadBandwidthGBps:F0} GB/s); decode step {r.DecodeMsPerToken:F3} ms, graph replay {r.GraphReplayMsPerToken:F3} ms, kernel by kernel {r.KernelLaunchMsPerToken:F3} ms");
            Console.WriteLine($"  prefill {r.PrefillTokensPerSecond:F0} tok/s at {r.PromptTokens} (queued in {r.PromptPrefillHostMs:F2} ms, run in {r.PromptPrefillMs:F2}), {r.LongPrefillTokensPerSecond:F0} tok/s at {r.LongPrefillTokens} = {r.LongPrefillTflops:F0} TFLOP/s ({r.LongPrefillOverGemm:P0} of cuBLAS's {r.GemmTflops:F0}); peak device memory {Output.Bytes(r.PeakDeviceBytes)} of {Output.Bytes(r.DeviceTotalBytes)}");
            DeviceMemoryLines(r.Memory);
            if (r.TransformersTpotMs is { } tt) Console.WriteLine($"  transformers TPOT {tt:F2} ms: {r.SpeedupOverTransformers:F2} × faster");
        });
        return 0;
    }
}
