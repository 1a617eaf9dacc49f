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
        var data = CommonOptions.Data();
        data.Description += " Calibrates here when --stats is not given.";
        var samples = CommonOptions.Samples(); var seqlen = CommonOptions.SeqLen(); var seed = CommonOptions.Seed();
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
            CommonOptions.CheckStore(parse.GetValue(store));
            string dir = CommonOptions.ResolveModel(parse.GetValue(model)!);
            var request = new PruneRequest
            {
                Model = dir, Output = parse.GetValue(output)!, Method = PruningMethods.Parse(parse.GetValue(method)!),
                Ratio = parse.GetValue(ratio), Budget = Budget(parse, budgetParams, budgetBytes, fits, context, runtime),
                Structure = PruningStructures.Parse(parse.GetValue(structure)!), BiasCompensation = !parse.GetValue(noBias),
                StatisticsFile = parse.GetValue(stats),
                CalibrationData = parse.GetValue(data) is { } dataPath
                    ? new CalibrationData(dataPath, parse.GetValue(samples), parse.GetValue(seqlen), parse.GetValue(seed)) : null,
                CheckTokens = parse.GetValue(writeCheck) is { } ids ? CommonOptions.ParseIds(ids) : null,
            };
            PruneOutcome outcome;
            using (var printer = ProgressPrinter.Start(parse.GetValue(quiet)))
                outcome = PruneWorkflow.Run(request, printer.Stages(), token);
            CommonOptions.Record(parse.GetValue(store), db => db.AddRun(outcome.Run));
            var (result, m, r, shape, checkFile) = (outcome.Result, request.Method, outcome.Ratio, request.Structure, outcome.CheckFile);
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

    /// <summary>The one budget option given, or null (then --ratio gives the ratio).</summary>
    private static PruningBudget? Budget(System.CommandLine.ParseResult parse, Option<long?> budgetParams, Option<long?> budgetBytes,
        Option<string?> fits, Option<int> context, Option<string> runtime)
    {
        var budgets = new List<PruningBudget>();
        if (parse.GetValue(budgetParams) is { } p) budgets.Add(new PruningBudget.Parameters(p));
        if (parse.GetValue(budgetBytes) is { } b) budgets.Add(new PruningBudget.Bytes(b, DType.F16));
        if (parse.GetValue(fits) is { } device)
            budgets.Add(new PruningBudget.FitsDevice(DeviceProfile.Resolve(device), parse.GetValue(context),
                RuntimeProfile.Resolve(parse.GetValue(runtime)!), DType.F16));
        return budgets.Count <= 1 ? budgets.SingleOrDefault()
            : throw new ArgumentException("Give --ratio, or exactly one of --budget-params, --budget-bytes, --fits.");
    }
}
