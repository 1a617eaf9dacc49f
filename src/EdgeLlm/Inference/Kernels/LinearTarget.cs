using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Kernels;

/// <summary>One product y = x·Wᵀ + bias among several computed together by <see cref="MatMul.Linear(float[], int, LinearTarget[])"/>.</summary>
public sealed record LinearTarget(TensorView Weight, float[]? Bias, float[] Output);
