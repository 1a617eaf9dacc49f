namespace EdgeLlm.Inference;

/// <summary>Choices that change the engine's numbers; the defaults compute what transformers computes.</summary>
public sealed record EngineOptions
{
    /// <summary>
    /// transformers keeps the rotary inverse frequencies in float32 whatever the checkpoint's dtype
    /// (tools/reference/probe_rope_dtype.py shows it). The shared hf-tiny 16-bit fixtures were
    /// computed with frequencies that had passed through bfloat16; this reproduces them exactly.
    /// </summary>
    public bool RoundRopeFrequenciesToBFloat16 { get; init; }
}
