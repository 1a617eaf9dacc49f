namespace EdgeLlm.Inference;

/// <summary>Tokens to append to one sequence: its cache and the new token ids.</summary>
public sealed record Segment(KvCache Cache, int[] Tokens);
