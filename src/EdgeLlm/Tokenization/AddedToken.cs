namespace EdgeLlm.Tokenization;

/// <summary>A token matched verbatim in the input before pre-tokenization (HF "added_tokens").</summary>
public sealed record AddedToken(
    int Id,
    string Content,
    bool Special,
    bool LStrip = false,
    bool RStrip = false,
    bool SingleWord = false,
    bool Normalized = false);
