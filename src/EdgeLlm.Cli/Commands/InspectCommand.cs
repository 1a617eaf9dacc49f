using System.CommandLine;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Cli.Commands;

internal static class InspectCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var json = CommonOptions.Json();
        var command = new Command("inspect", "Describe a checkpoint: architecture, shapes, parameters, bytes.") { model, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            using var checkpoint = Checkpoint.Open(CommonOptions.ResolveModel(parse.GetValue(model)!));
            checkpoint.Validate();
            var c = checkpoint.Config;
            var pruning = c.Architecture.Pruning(c);
            var summary = new
            {
                Architecture = c.ArchitectureName,
                Block = c.Architecture.Summary,
                Parameters = checkpoint.ParameterCount,
                Layers = c.NumLayers,
                HiddenSize = c.HiddenSize,
                IntermediateSize = c.IntermediateSize,
                Heads = c.NumHeads,
                KvHeads = c.NumKvHeads,
                HeadDim = c.HeadDim,
                VocabSize = c.VocabSize,
                MaxPositions = c.MaxPositions,
                SlidingWindow = c.SlidingWindow > 0 ? c.SlidingWindow : (int?)null,
                PrunableHeads = pruning.CanPruneHeads,
                FlapBiasCompensation = pruning.CanStoreOutputBiases,
                Dtype = checkpoint.DType.ToTorchName(),
                WeightBytes = checkpoint.WeightBytes,
                TiedEmbeddings = c.TieWordEmbeddings,
                LayerShapes = c.LayerShapes,
                Files = checkpoint.Files.Select(Path.GetFileName).ToArray(),
            };
            Output.Write(summary, parse.GetValue(json), () =>
            {
                Console.WriteLine($"{checkpoint.Directory}");
                Console.WriteLine($"  {c.ArchitectureName} ({c.Architecture.Summary}): {c.NumLayers} layers, hidden {c.HiddenSize}, MLP {c.IntermediateSize}, heads {c.NumHeads}/{c.NumKvHeads} (q/kv) × {c.HeadDim}, vocab {c.VocabSize}" +
                    (c.SlidingWindow > 0 ? $", sliding window {c.SlidingWindow}" : ""));
                Console.WriteLine($"  pruning: {(pruning.CanPruneHeads ? "KV groups, " : "")}MLP channels, layers; FLAP bias compensation {(pruning.CanStoreOutputBiases ? "can" : "cannot")} be stored");
                if (c.LayerShapes is { } shapes)
                    Console.WriteLine($"  per-layer shapes ({ModelConfig.LayerShapesField}; stock loaders will not read them): KV heads " +
                        string.Join(",", shapes.Select(l => l.NumKvHeads)) + ", MLP " + string.Join(",", shapes.Select(l => l.IntermediateSize)));
                Console.WriteLine($"  {checkpoint.ParameterCount:N0} parameters, {checkpoint.DType.ToTorchName()}, {Output.Bytes(checkpoint.WeightBytes)} in {checkpoint.Files.Count} file(s)");
            });
            return 0;
        }));
        return command;
    }
}
