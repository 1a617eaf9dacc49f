namespace EdgeLlm.Evaluation.Sandbox;

/// <summary>Generated code cannot be run safely here: bubblewrap or the Python it needs is missing, or the kernel refuses namespaces.</summary>
public sealed class SandboxUnavailableException(string message, Exception? inner = null) : EdgeLlmException(message, inner);
