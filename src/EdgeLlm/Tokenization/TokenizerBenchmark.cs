using System.Diagnostics;
using System.Text;

namespace EdgeLlm.Tokenization;

/// <summary>Encoding throughput of a tokenizer over a set of texts.</summary>
public static class TokenizerBenchmark
{
    /// <summary>
    /// Encodes all texts once to warm up (JIT, per-word caches), then <paramref name="repeats"/> more times;
    /// reports the median pass as UTF-8 megabytes (10^6 bytes) per second. <paramref name="throughLibrary"/> times
    /// <see cref="ITokenizer.Tokenizer"/>'s own <c>EncodeToIds</c> (Microsoft.ML.Tokenizers' pipeline, without
    /// EdgeLlm's per-piece cache) instead of <see cref="ITokenizer.Encode"/>.
    /// </summary>
    public static TokenizerBenchmarkResult Run(ITokenizer tok, IReadOnlyList<string> texts, int repeats, bool throughLibrary = false)
    {
        ArgumentNullException.ThrowIfNull(tok);
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        var encode = Encoder(tok, throughLibrary);
        long bytes = 0;
        long tokens = 0;
        foreach (var t in texts)
        {
            bytes += Encoding.UTF8.GetByteCount(t);
            tokens += encode(t);
        }
        var seconds = new double[repeats];
        for (var r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            foreach (var t in texts) encode(t);
            seconds[r] = sw.Elapsed.TotalSeconds;
        }
        var sorted = seconds.Order().ToArray();
        var median = repeats % 2 == 1 ? sorted[repeats / 2] : (sorted[repeats / 2 - 1] + sorted[repeats / 2]) / 2;
        return new TokenizerBenchmarkResult(bytes / median / 1e6, bytes, tokens, median, seconds);
    }

    /// <summary>Encodes one text the chosen way and returns its token count.</summary>
    public static Func<string, int> Encoder(ITokenizer tok, bool throughLibrary) =>
        throughLibrary ? t => tok.Tokenizer.EncodeToIds(t).Count : t => tok.Encode(t).Length;
}
