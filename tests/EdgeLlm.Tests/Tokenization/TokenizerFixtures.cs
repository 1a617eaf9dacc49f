using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Tokenization;

/// <summary>Loads each shared vocabulary once per test run (they take a second or two each).</summary>
public static class TokenizerFixtures
{
    private static readonly Dictionary<string, Lazy<BpeTokenizer>> loaded = new()
    {
        ["gpt2"] = new(() => BpeTokenizer.FromFolder(SharedData.Path("tokenizers", "gpt2"))),
        ["llama3"] = new(() => BpeTokenizer.FromFolder(SharedData.Path("tokenizers", "llama3"))),
        ["qwen3"] = new(() => BpeTokenizer.FromFolder(SharedData.Path("tokenizers", "qwen3"))),
        ["phi-2"] = new(() => BpeTokenizer.FromFolder(SharedData.Path("tokenizers", "phi-2"))),
    };

    public static BpeTokenizer Get(string name) => loaded[name].Value;
}
