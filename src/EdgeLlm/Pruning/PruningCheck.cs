using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;

namespace EdgeLlm.Pruning;

/// <summary>
/// Writes <c>edgellm-logits.safetensors</c> into a model folder: <c>input_ids</c> [1, n] int64 and
/// EdgeLlm's <c>logits</c> [n, vocab] float32 for them, so tools/reference/check_pruned.py can load the
/// same folder with transformers and compare.
/// </summary>
public static class PruningCheck
{
    public const string FileName = "edgellm-logits.safetensors";

    public static string Write(string modelDirectory, int[] ids, CancellationToken cancellationToken = default)
    {
        if (ids.Length == 0) throw new ArgumentException("The check needs at least one token id.", nameof(ids));
        using var lm = CausalLM.Load(modelDirectory);
        var logits = lm.ForwardAll(lm.NewCache(ids.Length), ids, cancellationToken);
        var path = Path.Combine(modelDirectory, FileName);
        SafeTensorsWriter.Write(path,
        [
            TensorData.FromInt64("input_ids", [1, ids.Length], ids.Select(i => (long)i).ToArray()),
            TensorData.FromFloats("logits", [ids.Length, lm.VocabSize], logits, DType.F32),
        ], new Dictionary<string, string> { ["producer"] = "edgellm prune --write-check" });
        return path;
    }
}
