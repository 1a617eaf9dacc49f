namespace EdgeLlm.Tokenization;

/// <summary>BOS/EOS choices, typically from tokenizer_config.json; a null flag means the config does not say.</summary>
internal sealed record SpecialTokenSettings(string? BosToken, string? EosToken, bool? AddBosToken, bool? AddEosToken);
