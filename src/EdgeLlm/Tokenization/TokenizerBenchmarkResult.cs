namespace EdgeLlm.Tokenization;

/// <param name="MegabytesPerSecond">UTF-8 bytes encoded per second / 10^6, over the median pass.</param>
/// <param name="Utf8Bytes">UTF-8 bytes in one pass over the texts.</param>
/// <param name="Tokens">Tokens produced in one pass.</param>
/// <param name="MedianSeconds">Median duration of one pass.</param>
/// <param name="PassSeconds">Duration of each timed pass.</param>
public sealed record TokenizerBenchmarkResult(
    double MegabytesPerSecond, long Utf8Bytes, long Tokens, double MedianSeconds, IReadOnlyList<double> PassSeconds);
