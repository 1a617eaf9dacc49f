using System.CommandLine;
using EdgeLlm.Calibration;
using EdgeLlm.Inference;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Cli.Commands;

internal static class CalibrateCommand
{

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var data = CommonOptions.Data(); data.Required = true;
        var samples = CommonOptions.Samples(); var seqlen = CommonOptions.SeqLen(); var seed = CommonOptions.Seed();
        var output = new Option<string>("--out") { Description = "Statistics file to write (safetensors); an existing one for the same samples is resumed.", Required = true };
        var saveEvery = new Option<int>("--save-every") { Description = "Save the statistics every N samples.", DefaultValueFactory = _ => 16 };
        var quiet = new Option<bool>("--quiet") { Description = "No progress on stderr." };
        var device = CommonOptions.Device();
        var json = CommonOptions.Json();
        var command = new Command("calibrate", "One calibration pass: activation statistics that every pruning method reads.") { model, data, samples, seqlen, seed, output, saveEvery, quiet, device, json };
        command.SetAction((parse, token) => Task.FromResult(Output.Guard(() =>
        {
            var total = System.Diagnostics.Stopwatch.StartNew();
            var modelDir = CommonOptions.ResolveModel(parse.GetValue(model)!);
            using var lm = CausalLM.Load(modelDir, CommonOptions.Engine(parse.GetValue(device)!));
            double loadSeconds = total.Elapsed.TotalSeconds;
            var prepare = System.Diagnostics.Stopwatch.StartNew();
            var windows = new CalibrationData(parse.GetValue(data)!, parse.GetValue(samples), parse.GetValue(seqlen), parse.GetValue(seed)).Sample(modelDir, token);
            double prepareSeconds = prepare.Elapsed.TotalSeconds;
            var started = System.Diagnostics.Stopwatch.StartNew();
            var pass = System.Diagnostics.Stopwatch.StartNew();
            CalibrationStatistics stats;
            using (var printer = ProgressPrinter.Start(parse.GetValue(quiet)))
                stats = Calibrator.Run(lm, windows, parse.GetValue(output), parse.GetValue(saveEvery),
                    printer.For<CalibrationProgress>(p => ("calibration", p.SamplesDone, p.SamplesTotal), "samples"), token);
            double passSeconds = pass.Elapsed.TotalSeconds;
            long tokens = windows.Sum(w => (long)w.Length);
            var influence = Enumerable.Range(0, stats.NumLayers).Select(stats.BlockInfluence).ToArray();
            // The phases on stderr, also under --json: loading the model, preparing the samples (reading and tokenizing the
            // text, drawing the windows), and the forward/statistics pass (with the state file's saves).
            Console.Error.WriteLine($"calibrate: load {loadSeconds:F1} s, samples {prepareSeconds:F1} s (read + tokenize {windows.Count} × {parse.GetValue(seqlen)}), " +
                $"pass {passSeconds:F1} s ({tokens / passSeconds:F0} tokens/s on {lm.Backend.Name}), total {total.Elapsed.TotalSeconds:F1} s");
            Output.Write(new { Statistics = parse.GetValue(output), stats.SamplesDone, stats.Fingerprint, BlockInfluence = influence, Seconds = started.Elapsed.TotalSeconds,
                LoadSeconds = loadSeconds, PrepareSeconds = prepareSeconds, PassSeconds = passSeconds, PassTokensPerSecond = tokens / passSeconds,
                TotalSeconds = total.Elapsed.TotalSeconds, Device = lm.Backend.Name },
                parse.GetValue(json), () =>
                {
                    Console.WriteLine($"{stats.SamplesDone} samples → {parse.GetValue(output)} ({started.Elapsed.TotalSeconds:F1} s)");
                    for (int i = 0; i < influence.Length; i++) Console.WriteLine($"layer {i,3}  block influence {influence[i]:F5}");
                });
            return 0;
        })));
        return command;
    }
}
