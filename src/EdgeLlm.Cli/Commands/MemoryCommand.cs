using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Backends.Cuda;
using EdgeLlm.Profiling;

namespace EdgeLlm.Cli.Commands;

internal static class MemoryCommand
{
    public static Command Create()
    {
        var model = new Argument<string?>("model") { Arity = ArgumentArity.ZeroOrOne, Description = $"A model folder, or a preset name ({string.Join(", ", ModelPresets.Names)})." };
        var context = new Option<int>("--context") { DefaultValueFactory = _ => 4096 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 1 };
        var device = new Option<string?>("--device") { Description = $"A prediction's device: a profile file or one of {string.Join(", ", DeviceProfile.BuiltIn)} (default phone-12gb). With --measure, the engine measured: cpu (default), cuda or cuda:N." };
        var runtime = new Option<string>("--runtime") { DefaultValueFactory = _ => "mlc-llm-android", Description = string.Join(", ", RuntimeProfile.All.Select(r => r.Name)) };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "stored", Description = "Weight dtype: stored (the folder's bytes; f16 for a preset), f16, bf16 or f32." };
        var kvDtype = new Option<string?>("--kv-dtype") { Description = "K/V element type (default: the runtime's)." };
        var measure = new Option<bool>("--measure") { Description = "Check the model against measured peaks on random checkpoints: peak RSS on the CPU engine, the allocator's peak and the driver's free memory on a GPU (--device cuda)." };
        var like = new Option<string>("--like") { DefaultValueFactory = _ => "phi-2" };
        var layers = new Option<string>("--layers") { DefaultValueFactory = _ => "2,4" };
        var contexts = new Option<string>("--contexts") { DefaultValueFactory = _ => "256,1024,2048" };
        var probe = new Option<string?>("--probe") { Hidden = true };
        var store = CommonOptions.Store();
        var json = CommonOptions.Json();
        var command = new Command("memory", "Predict inference memory (weights + KV cache + activations + runtime) and whether it fits a device; --measure checks the prediction.")
            { model, context, batch, device, runtime, dtype, kvDtype, measure, like, layers, contexts, probe, store, json };
        command.SetAction((parse, ct) => Task.FromResult(Output.Guard(() =>
        {
            bool asJson = parse.GetValue(json);
            bool measuring = parse.GetValue(measure) || parse.GetValue(probe) != null;
            var engine = Engine(parse.GetValue(device), measuring);
            if (parse.GetValue(probe) is { } dir)
            {
                Output.Write(MemoryProbe.Measure(dir, parse.GetValue(context), device: engine, cancellationToken: ct), true, () => { });
                return 0;
            }
            if (measuring)
                return Measure(parse.GetValue(like)!, Ints(parse.GetValue(layers)!), Ints(parse.GetValue(contexts)!), engine!, parse.GetValue(store), asJson, ct);
            var name = parse.GetValue(model) ?? throw new ArgumentException("Give a model folder or preset name (or --measure).");
            var rt = RuntimeProfile.Resolve(parse.GetValue(runtime)!);
            string dt = parse.GetValue(dtype)!;
            var profile = DeviceProfile.Resolve(parse.GetValue(device) ?? "phone-12gb");
            var folder = Directory.Exists(name) || ModelPresets.Names.Contains(name) ? name : CommonOptions.ResolveModel(name); // a Hub repo id
            var report = MemoryWorkflow.Predict(folder, new MemoryQuery
            {
                Context = parse.GetValue(context), Batch = parse.GetValue(batch), Device = profile, Runtime = rt,
                WeightDType = dt == "stored" ? null : DTypes.ParseFloatName(dt),
                KvDType = parse.GetValue(kvDtype) is { } k ? DTypes.ParseFloatName(k) : null,
            });
            var (prediction, fit, tpot) = (report.Prediction, report.Fit, report.TpotEstimate);
            CommonOptions.Record(parse.GetValue(store), db => db.AddRun(StoreAdapters.MemoryRun(StoreAdapters.Identify(name), prediction, fit)));
            Output.Write(new { Model = name, Prediction = prediction, Fit = fit, TpotEstimate = tpot }, asJson, () =>
            {
                Console.WriteLine($"{name} at context {prediction.Context} × batch {prediction.Batch} on {rt.Name}: {Output.Bytes(prediction.TotalBytes)}");
                Console.WriteLine($"  weights {Output.Bytes(prediction.WeightBytes)} ({prediction.Parameters:N0} parameters, {prediction.WeightDType}), KV {Output.Bytes(prediction.KvCacheBytes)} ({prediction.KvDType}), activations {Output.Bytes(prediction.ActivationBytes)}, workspace {Output.Bytes(prediction.WorkspaceBytes)}, overhead {Output.Bytes(prediction.OverheadBytes)}");
                Console.WriteLine($"  {profile.Name}: {(fit.Fits ? "fits" : "DOES NOT FIT")}, {(fit.Fits ? "margin" : "over by")} {Output.Bytes(Math.Abs(fit.MarginBytes))} of {Output.Bytes(fit.UsableBytes)} ({fit.Utilisation:P1})");
                Console.WriteLine($"  bandwidth-bound decode on {profile.Name}: ≥ {tpot.TpotMs:F1} ms/token ({tpot.TokensPerSecond:F1} tok/s at most)");
            });
            return 0;
        })));
        return command;
    }

    /// <summary>
    /// What --device names: with --measure the engine to measure on (cpu, the default, or cuda[:N]); otherwise a phone
    /// profile for the prediction (null here). Each meaning refused in the other place, saying so.
    /// </summary>
    internal static DeviceSelection? Engine(string? device, bool measure)
    {
        bool engineName = device is { } d && (d.Trim().Equals("cpu", StringComparison.OrdinalIgnoreCase) || d.Trim().StartsWith("cuda", StringComparison.OrdinalIgnoreCase));
        if (!measure)
        {
            if (engineName) throw new ArgumentException($"--device '{device}' names an engine, which only --measure runs on; a prediction takes a device profile ({string.Join(", ", DeviceProfile.BuiltIn)} or a profile file).");
            return null;
        }
        if (device != null && !engineName)
            throw new ArgumentException($"--device '{device}' with --measure: expected the engine to measure on, cpu, cuda or cuda:N (device profiles such as {DeviceProfile.BuiltIn.First()} are for predictions).");
        var selection = DeviceSelection.Parse(device ?? "cpu");
        if (selection.IsCuda)
        {
            var devices = CudaAvailability.Devices(); // no driver: its one-line CudaUnavailableException
            if (selection.Ordinal >= devices.Count)
                throw new ArgumentException($"--device {selection}: this machine has {devices.Count} CUDA device(s) ({string.Join(", ", devices)}).");
        }
        return selection;
    }

    private static int[] Ints(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(s => int.TryParse(s, out var v) && v > 0 ? v : throw new FormatException($"'{s}' is not a positive whole number.")).ToArray();

    /// <summary>Each case runs in a child process, so one case's freed memory never counts in the next's peak.</summary>
    private static int Measure(string like, int[] layerCounts, int[] contexts, DeviceSelection engine, string? store, bool asJson, CancellationToken ct)
    {
        IReadOnlyList<MemoryProbeResult> rows;
        using (var printer = ProgressPrinter.Start())
            rows = MemoryWorkflow.Validate(like, layerCounts, contexts, (dir, context) => RunProbe(dir, context, engine), printer.Stages(), ct);
        // One run per random checkpoint (model "<like>-<n>l"), each context's measured peak beside the prediction.
        CommonOptions.Record(store, db => rows.GroupBy(r => r.Layers).Select(g => db.AddRun(new RunRecord(
            new RunInfo($"{like}-{g.Key}l", "dense", 0) { Notes = $"random {like} checkpoint with {g.Key} layers, measured on {engine}" })
            { Machine = MachineInfo.Current(), Memory = g.SelectMany(StoreAdapters.Memory).ToList() })).Last());
        Output.Write(new { Rows = rows }, asJson, () =>
        {
            if (!engine.IsCuda)
            {
                Console.WriteLine("| model | layers | context | weights | baseline RSS | predicted | measured peak | predicted/measured |");
                Console.WriteLine("|---|---|---|---|---|---|---|---|");
                foreach (var r in rows)
                    Console.WriteLine($"| {r.Model} | {r.Layers} | {r.Context} | {Output.Bytes(r.WeightBytes)} | {Output.Bytes(r.BaselineRssBytes)} | {Output.Bytes(r.PredictedBytes)} | {Output.Bytes(r.PeakRssBytes)} | {r.PredictedOverMeasured:F3} |");
                return;
            }
            Console.WriteLine($"{rows.FirstOrDefault()?.Device ?? engine.ToString()}, runtime {rows.FirstOrDefault()?.Runtime}: predicted allocations (total less the overhead outside the allocator) vs the allocator's peak; the driver's use at that peak vs the whole prediction");
            Console.WriteLine("| model | layers | context | weights | predicted alloc | allocator peak | predicted/measured | predicted total | driver used at peak | predicted/driver | outside allocator | host peak RSS |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var r in rows)
            {
                var m = r.DeviceMemory!;
                Console.WriteLine($"| {r.Model} | {r.Layers} | {r.Context} | {Output.Bytes(r.WeightBytes)} | {Output.Bytes(m.PredictedAllocatedBytes)} | {Output.Bytes(m.PeakAllocatedBytes)} | {m.PredictedOverMeasured:F3} | {Output.Bytes(m.PredictedDeviceBytes)} | {Output.Bytes(m.DriverUsedAtPeakBytes)} of {Output.Bytes(m.DeviceTotalBytes)} | {m.PredictedOverDriverUsed:F3} | {Output.Bytes(m.OutsideAllocatorBytes)} | {Output.Bytes(r.PeakRssBytes)} |");
            }
        });
        return 0;
    }

    private static MemoryProbeResult RunProbe(string dir, int context, DeviceSelection engine)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this program to start a probe.");
        var info = new ProcessStartInfo(self) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(MemoryCommand).Assembly.Location);
        foreach (var a in new[] { "memory", "--probe", dir, "--context", context.ToString(), "--device", engine.ToString(), "--json" }) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"memory probe at context {context} failed ({p.ExitCode}).");
        return JsonSerializer.Deserialize<MemoryProbeResult>(text, Output.Json)
            ?? throw new InvalidOperationException($"memory probe printed no result: {text}");
    }
}
