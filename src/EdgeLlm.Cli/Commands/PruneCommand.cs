using EdgeLlm.Profiling;
using System.CommandLine;
using EdgeLlm.Analysis.Store;
using EdgeLlm.Calibration;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Pruning;

namespace EdgeLlm.Cli.Commands;

internal static class PruneCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var method = new Option<string>("--method") { Description = "l1, wanda-sp, flap or shortgpt.", Required = true };
        var ratio = new Option<double?>("--ratio") { Description = "Fraction of KV groups and MLP channels per layer (shortgpt: of layers) to remove. Or derive it from a budget:" };
        var budgetParams = new Option<long?>("--budget-params") { Description = "Smallest ratio leaving at most this many parameters." };
        var budgetBytes = new Option<long?>("--budget-bytes") { Description = "Smallest ratio leaving at most this many bytes of FP16 weights." };
        var fits = new Option<string?>("--fits") { Description = "Smallest ratio whose predicted inference memory fits this device profile (e.g. phone-12gb), with --context tokens of KV cache." };
        var context = new Option<int>("--context") { DefaultValueFactory = _ => 4096, Description = "KV-cache tokens for --fits." };
        var runtime = new Option<string>("--runtime") { DefaultValueFactory = _ => "mlc-llm-android", Description = "Runtime profile for --fits (mlc-llm-android or edgellm-cpu)." };
        var output = new Option<string>("--out") { Description = "Folder for the pruned model.", Required = true };
        var stats = new Option<string>("--stats") { Description = "Calibration statistics from 'edgellm calibrate'." };
        var data = CalibrateCommand.Data();
        data.Description += " Calibrates here when --stats is not given.";
        var samples = CalibrateCommand.Samples(); var seqlen = CalibrateCommand.SeqLen(); var seed = CalibrateCommand.Seed();
        var structure = new Option<string>("--structure") { DefaultValueFactory = _ => "uniform",
            Description = "flap only: uniform (same widths in every layer, FLAP's UL-UM; an ordinary checkpoint) or global (FLAP's AL-AM: one " +
                "threshold across layers, per-layer widths that only EdgeLlm loads — stock transformers/MLC-LLM will not)." };
        var noBias = new Option<bool>("--no-bias-compensation") { Description = "FLAP without adding the removed channels' mean output to the biases." };
        var writeCheck = new Option<string>("--write-check") { Description = "Comma-separated token ids: write edgellm-logits.safetensors (EdgeLlm's logits of the pruned model) for tools/reference/check_pruned.py." };
        var quiet = new Option<bool>("--quiet") { Description = "No progress on stderr." };
        var store = CommonOptions.Store();
        var json = CommonOptions.Json();
        var command = new Command("prune", "Structured pruning to a smaller FP16/FP32 checkpoint that stock loaders read.")
            { model, method, ratio, budgetParams, budgetBytes, fits, context, runtime, output, stats, data, samples, seqlen, seed, structure, noBias, writeCheck, quiet, store, json };
        command.SetAction((parse, token) => Task.FromResult(Output.Guard(() =>
        {
            string dir = CommonOptions.ResolveModel(parse.GetValue(model)!), outDir = parse.GetValue(output)!;
            var m = PruningMethods.Parse(parse.GetValue(method)!);
            var shape = PruningStructures.Parse(parse.GetValue(structure)!);
            if (shape == PruningStructure.Global && parse.GetValue(ratio) == null)
                throw new ArgumentException("--structure global takes --ratio (the budgets predict uniform shapes).");
            var log = Output.Progress(parse.GetValue(quiet));
            double r = RatioFrom(parse, dir, m, ratio, budgetParams, budgetBytes, fits, context, runtime, !parse.GetValue(noBias));
            if (parse.GetValue(ratio) == null) log.Report($"budget → ratio {r:0.000}");
            CalibrationStatistics? statistics = null;
            string? note = null, calibration = null;
            int? calibrationSamples = null;
            if (m.NeedsCalibration())
            {
                if (parse.GetValue(stats) is { } statsPath)
                {
                    statistics = CalibrationStatistics.Load(statsPath);
                    note = $"{statsPath} ({statistics.SamplesDone} samples, {statistics.Fingerprint})";
                    calibration = Path.GetFileName(statsPath); calibrationSamples = statistics.SamplesDone;
                }
                else if (parse.GetValue(data) is { } dataPath)
                {
                    using var lm = CausalLM.Load(dir);
                    var windows = CalibrateCommand.Sample(dir, dataPath, parse.GetValue(samples), parse.GetValue(seqlen), parse.GetValue(seed), token);
                    statistics = Calibrator.Run(lm, windows, progress: new Progress<CalibrationProgress>(p => log.Report($"calibration {p.SamplesDone}/{p.SamplesTotal}")), cancellationToken: token);
                    note = $"{dataPath}: {windows.Count} windows of {parse.GetValue(seqlen)} tokens, seed {parse.GetValue(seed)}";
                    calibration = StoreAdapters.DatasetName(dataPath); calibrationSamples = windows.Count;
                }
                else throw new ArgumentException($"{m.Name()} needs calibration: pass --stats FILE or --data FILE.");
            }
            PruningResult result;
            using (var source = Checkpoint.Open(dir))
            {
                var plan = StructuredPruner.Plan(source, m, r, statistics, !parse.GetValue(noBias), log, token, shape);
                result = PrunedCheckpointWriter.Save(source, plan, outDir, note, progress: log);
                CommonOptions.Record(parse.GetValue(store), db => db.AddRun(StoreAdapters.PruningRun(source, result, plan, calibration, calibrationSamples)));
            }
            string? checkFile = null;
            if (parse.GetValue(writeCheck) is { } ids)
                checkFile = PruningCheck.Write(outDir, CommonOptions.ParseIds(ids));
            Output.Write(new { result.Directory, Method = m.Name(), Ratio = r, Structure = shape.Name(), result.ParametersBefore, result.ParametersAfter,
                result.Layers, result.KvHeads, result.IntermediateSize, result.UniformShapes, result.LayerShapes, Check = checkFile }, parse.GetValue(json), () =>
            {
                string widths = result.UniformShapes ? $"{result.KvHeads} KV heads, MLP {result.IntermediateSize}"
                    : "per layer KV heads " + string.Join(",", result.LayerShapes!.Select(s => s.NumKvHeads)) + ", MLP " + string.Join(",", result.LayerShapes!.Select(s => s.IntermediateSize));
                Console.WriteLine($"{m.Name()} {r:P1}: {result.ParametersBefore:N0} → {result.ParametersAfter:N0} parameters " +
                    $"({result.Layers} layers, {widths}) in {result.Directory}" + (checkFile != null ? $"; check file {checkFile}" : ""));
                if (!result.UniformShapes)
                    Console.WriteLine("Per-layer shapes: stock transformers and MLC-LLM loaders will NOT load this folder (config.json edgellm_layer_shapes); EdgeLlm does.");
            });
            return 0;
        })));
        return command;
    }

    /// <summary>The --ratio given, or the smallest one that meets exactly one budget option.</summary>
    private static double RatioFrom(System.CommandLine.ParseResult parse, string dir, PruningMethod method, Option<double?> ratio,
        Option<long?> budgetParams, Option<long?> budgetBytes, Option<string?> fits, Option<int> context, Option<string> runtime, bool biasCompensation)
    {
        var budgets = new List<PruningBudget>();
        if (parse.GetValue(budgetParams) is { } p) budgets.Add(new PruningBudget.Parameters(p));
        if (parse.GetValue(budgetBytes) is { } b) budgets.Add(new PruningBudget.Bytes(b, DType.F16));
        if (parse.GetValue(fits) is { } device)
            budgets.Add(new PruningBudget.FitsDevice(DeviceProfile.Resolve(device), parse.GetValue(context),
                RuntimeProfile.Resolve(parse.GetValue(runtime)!), DType.F16));
        if (parse.GetValue(ratio) is { } given)
            return budgets.Count == 0 ? given : throw new ArgumentException("Give --ratio or one budget (--budget-params, --budget-bytes, --fits), not both.");
        if (budgets.Count != 1) throw new ArgumentException("Give --ratio, or exactly one of --budget-params, --budget-bytes, --fits.");
        using var checkpoint = Checkpoint.Open(dir);
        return PruningShape.RatioFor(checkpoint.Config, method, budgets[0], biasCompensation);
    }
}
