using System.Text;
using EdgeLlm.Tokenization;
using EdgeLlm.Tests.Support;
using FsCheck;
using FsCheck.Fluent;

namespace EdgeLlm.Tests.Tokenization;

/// <summary>Byte-level BPE loses nothing: any text (well-formed UTF-16) decodes back to itself.</summary>
public class RoundTripProperties
{
    private static readonly Lazy<ITokenizer> Gpt2 = new(() => Tokenizers.Load(SharedData.Path("tokenizers", "gpt2")));
    private static readonly Lazy<ITokenizer> Llama3 = new(() => Tokenizers.Load(SharedData.Path("tokenizers", "llama3")));

    /// <summary>Strings mixing ASCII, whitespace runs, accents, CJK, emoji (surrogate pairs) and special-token text.</summary>
    private static Arbitrary<string> Texts()
    {
        var pieces = new[] { "a", "Z", " ", "  ", "\n", "\r\n", "\t", "'s", "42", "1234567", "é", "e\u0301", "中文", "🙂", "👩‍💻", "<|endoftext|>", "def f(x):", "ß", "\u00a0", "—" };
        return Gen.ListOf(Gen.Elements(pieces)).Select(list => string.Concat(list)).ToArbitrary();
    }

    [Fact]
    public void Gpt2DecodeInvertsEncode() =>
        Prop.ForAll(Texts(), text => Gpt2.Value.Decode(Gpt2.Value.Encode(text)) == text).QuickCheckThrowOnFailure();

    [Fact]
    public void Llama3DecodeInvertsEncode() =>
        Prop.ForAll(Texts(), text => Llama3.Value.Decode(Llama3.Value.Encode(text)) == text).QuickCheckThrowOnFailure();

    [Fact]
    public void EncodingConcatenatedTextsNeverSplitsUtf8Wrongly() =>
        Prop.ForAll(Texts(), text =>
        {
            var ids = Gpt2.Value.Encode(text);
            // every id is a real vocabulary entry and the decoded bytes are the text's UTF-8 bytes
            return ids.All(id => Gpt2.Value.TokenToString(id) != null)
                && Encoding.UTF8.GetBytes(Gpt2.Value.Decode(ids)).SequenceEqual(Encoding.UTF8.GetBytes(text));
        }).QuickCheckThrowOnFailure();
}
