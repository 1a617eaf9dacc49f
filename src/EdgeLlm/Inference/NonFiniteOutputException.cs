namespace EdgeLlm.Inference;

/// <summary>A forward pass produced NaN or infinity: refused, rather than returning NaN log-probabilities as a score.</summary>
public sealed class NonFiniteOutputException(string message) : EdgeLlmException(message);
