namespace EdgeLlm.Tokenization;

/// <summary>Splits (already normalized) text into pieces that BPE encodes independently.</summary>
internal interface IPreTokenizer
{
    /// <summary>Appends (start, length) of each piece of <paramref name="text"/>, in order, covering all of it.</summary>
    void Split(ReadOnlySpan<char> text, List<(int Start, int Length)> pieces);
}
