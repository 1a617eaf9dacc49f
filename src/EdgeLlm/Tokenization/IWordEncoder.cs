namespace EdgeLlm.Tokenization;

/// <summary>The BPE step: encodes one pre-token's UTF-8 bytes to ids.</summary>
internal interface IWordEncoder
{
    void Encode(ReadOnlySpan<byte> utf8, List<int> output);
}
