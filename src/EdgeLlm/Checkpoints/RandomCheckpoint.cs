using System.Text.Json.Nodes;

namespace EdgeLlm.Checkpoints;

/// <summary>
/// Writes a checkpoint with a real model's shapes and random weights (uniform, std 0.02; norms 1,
/// biases 0), for memory and speed work where the weights' values do not matter.
/// </summary>
public static class RandomCheckpoint
{
    public static IReadOnlyList<string> Create(JsonObject config, string directory, DType dtype, int? layers = null,
        ulong seed = 0, IProgress<StageProgress>? progress = null)
    {
        config = (JsonObject)config.DeepClone();
        if (layers is { } n) config["num_hidden_layers"] = n;
        config[config.ContainsKey("dtype") ? "dtype" : "torch_dtype"] = dtype.ToTorchName();
        var parsed = ModelConfig.Parse(config, Path.Combine(directory, Checkpoint.ConfigFile));
        var tensors = TensorLayout.For(parsed).Select(spec => spec.Role switch
        {
            TensorRole.Norm when spec.Name.EndsWith(".weight") => TensorData.Generate(spec.Name, spec.Shape, dtype, (_, s) => s.Fill(1f)),
            TensorRole.Norm or TensorRole.Bias => TensorData.Generate(spec.Name, spec.Shape, dtype, (_, s) => s.Clear()),
            _ => TensorData.Generate(spec.Name, spec.Shape, dtype, Uniform(seed ^ StableHash(spec.Name)))
        }).ToList();
        return CheckpointWriter.Save(directory, config, tensors, progress: progress);
    }

    /// <summary>FNV-1a of the name: string.GetHashCode changes from process to process.</summary>
    private static ulong StableHash(string name)
    {
        ulong h = 14695981039346656037UL;
        foreach (char ch in name) h = (h ^ ch) * 1099511628211UL;
        return h;
    }

    /// <summary>Uniform values with standard deviation 0.02 from a splitmix64 stream keyed by tensor and position.</summary>
    private static Action<long, Span<float>> Uniform(ulong seed) => (start, values) =>
    {
        const float halfWidth = 0.02f * 1.7320508f;
        ulong state = seed + (ulong)start * 0x9E3779B97F4A7C15UL;
        for (int i = 0; i < values.Length; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            values[i] = ((z >> 40) * (1f / (1 << 24)) * 2 - 1) * halfWidth;
        }
    };
}
