namespace EdgeLlm.Tokenization;

/// <summary>BOS/EOS choices, typically from tokenizer_config.json.</summary>
internal sealed record SpecialTokenSettings(string? BosToken, string? EosToken, bool AddBosToken, bool AddEosToken);
