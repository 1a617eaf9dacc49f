using EdgeLlm.Tokenization;
using Xunit.Abstractions;

namespace EdgeLlm.Tests.Tokenization;

/// <summary>Runs the benchmark over the reference texts and prints MB/s; asserts only on the bookkeeping.</summary>
public class TokenizerBenchmarkTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama3")]
    [InlineData("qwen3")]
    public void Benchmark_reports_throughput(string vocabulary)
    {
        var tok = TokenizerFixtures.Get(vocabulary);
        var texts = ReferenceEncodings.Texts;
        var result = TokenizerBenchmark.Run(tok, texts, repeats: 5);
        output.WriteLine($"{vocabulary}: {result.MegabytesPerSecond:F2} MB/s ({result.Utf8Bytes} bytes, {result.Tokens} tokens, median {result.MedianSeconds * 1000:F2} ms)");
        Assert.Equal(ReferenceEncodings.IdsFor(vocabulary).Sum(ids => ids.Length), result.Tokens);
        Assert.Equal(5, result.PassSeconds.Count);
        Assert.True(result.MegabytesPerSecond > 0);

        var library = TokenizerBenchmark.Run(tok, texts, repeats: 1, throughLibrary: true);
        Assert.Equal(result.Tokens, library.Tokens);
    }
}
