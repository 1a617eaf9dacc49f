namespace EdgeLlm.Inference;

/// <summary>
/// The text of a growing list of generated ids, so that stop strings can be looked for near the end only.
/// After each <see cref="Append"/>, <c>TextFrom(0)</c> equals the detokenizer's decoding of every id so far, and the
/// first <see cref="StableLength"/> characters of it never change on a later append.
/// </summary>
public interface IIncrementalText
{
    void Append(int token);

    /// <summary>Characters at the start of the text that no later <see cref="Append"/> changes.</summary>
    int StableLength { get; }

    /// <summary>The decoded text from character <paramref name="start"/> on.</summary>
    string TextFrom(int start);
}

/// <summary>Any detokenizer as an <see cref="IIncrementalText"/>: every read decodes all ids again (nothing is stable).</summary>
public sealed class RedecodedText(Func<int[], string> detokenize) : IIncrementalText
{
    private readonly List<int> ids = [];
    private string? text;

    public void Append(int token) { ids.Add(token); text = null; }
    public int StableLength => 0;
    public string TextFrom(int start) => (text ??= detokenize(ids.ToArray()))[start..];
}
