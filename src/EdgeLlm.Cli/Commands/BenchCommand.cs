using System.CommandLine;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Inference;
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
        var store = CommonOptions.Store();
        var json = CommonOptions.Json();
        var command = new Command("bench", "Median TPOT, prefill and decode throughput, peak RSS, against this machine's bandwidth and GEMM limits.")
            { model, promptTokens, newTokens, batch, repeats, warmup, store, json };
        command.SetAction((parse, ct) => Task.FromResult(Output.Guard(() =>
        {
            CommonOptions.CheckStore(parse.GetValue(store));
            var progress = Output.Progress(quiet: false);
            var dir = CommonOptions.ResolveModel(parse.GetValue(model)!);
            var result = ThroughputBenchmark.Measure(dir, new BenchmarkOptions
            {
                PromptTokens = parse.GetValue(promptTokens), NewTokens = parse.GetValue(newTokens),
                BatchSize = parse.GetValue(batch), Repeats = parse.GetValue(repeats), Warmup = parse.GetValue(warmup),
            }, progress: progress, cancellationToken: ct);
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
}
