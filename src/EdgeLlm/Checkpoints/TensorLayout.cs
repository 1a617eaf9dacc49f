namespace EdgeLlm.Checkpoints;

/// <summary>A tensor an architecture expects: its checkpoint name, shape, and what it is.</summary>
public sealed record TensorSpec(string Name, long[] Shape, TensorRole Role);

public enum TensorRole { Embedding, Head, Linear, Bias, Norm }

/// <summary>
/// The tensors a checkpoint holds, derived from its config alone (the architecture's
/// <see cref="Architectures.ModelArchitecture.Tensors"/>): names exactly as transformers (or Qwen-7B's own code)
/// writes them. Used to create random checkpoints with real shapes and to count parameters without opening weights.
/// </summary>
public static class TensorLayout
{
    public static IReadOnlyList<TensorSpec> For(ModelConfig c) => c.Architecture.Tensors(c);

    /// <summary>Parameters as the checkpoint stores them (a tied embedding/head counted once).</summary>
    public static long ParameterCount(ModelConfig c) => For(c).Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));
}
