using System.Text.RegularExpressions;

namespace EdgeLlm.Tokenization;

/// <summary>Chooses a pre-tokenizer for a split regex: a code-point scanner for the known patterns, else a .NET regex.</summary>
internal static class SplitPatterns
{
    public static IPreTokenizer For(string pattern) => pattern switch
    {
        Gpt2PatternScanner.Pattern => new Gpt2PatternScanner(),
        Cl100kPatternScanner.Llama3Pattern => new Cl100kPatternScanner(3),
        Cl100kPatternScanner.QwenPattern => new Cl100kPatternScanner(1),
        _ => new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant)),
    };
}
