using EdgeLlm.Inference;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Calibration;

/// <summary>Perplexity over windows: exp of the mean of per-window mean next-token NLL.</summary>
public sealed record PerplexityResult(double Perplexity, double[] WindowNll, int SeqLength, int Tokens);

/// <summary>
/// The validation protocol of the trained fixture (and of C4 perplexity in pruning papers): the first
/// documents, each tokenized without special tokens and followed by EOS, concatenated, cut into
/// non-overlapping windows of <c>seqLength</c> tokens; each window is scored from scratch.
/// </summary>
public static class Perplexity
{
    public static IReadOnlyList<int[]> Windows(IReadOnlyList<string> documents, ITokenizer tokenizer, int seqLength, int maxWindows,
        CancellationToken cancellationToken = default)
    {
        if (seqLength < 2) throw new ArgumentOutOfRangeException(nameof(seqLength), seqLength, "Windows need at least two tokens.");
        int eos = tokenizer.EosTokenId ?? throw new InvalidOperationException("The tokenizer has no EOS token to separate documents.");
        var stream = new List<int>();
        long needed = (long)seqLength * maxWindows;
        foreach (var doc in documents)
        {
            cancellationToken.ThrowIfCancellationRequested();
            stream.AddRange(tokenizer.Encode(doc, addSpecialTokens: false));
            stream.Add(eos);
            if (stream.Count >= needed) break;
        }
        int count = (int)Math.Min(maxWindows, stream.Count / seqLength);
        if (count == 0) throw new InvalidOperationException($"The documents hold {stream.Count} tokens, fewer than one window of {seqLength}.");
        return Enumerable.Range(0, count).Select(w => stream.GetRange(w * seqLength, seqLength).ToArray()).ToList();
    }

    public static PerplexityResult Evaluate(CausalLM model, IReadOnlyList<int[]> windows, IProgress<CalibrationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var scorer = new Scorer(model, maxBatchTokens: Math.Max(2048, windows.Max(w => w.Length)));
        var nll = new double[windows.Count];
        const int batch = 8;
        for (int start = 0; start < windows.Count; start += batch)
        {
            var part = windows.Skip(start).Take(batch).ToList();
            var logprobs = scorer.LogProbs(part, cancellationToken);
            for (int i = 0; i < part.Count; i++) nll[start + i] = -logprobs[i].Average(v => (double)v);
            progress?.Report(new CalibrationProgress(start + part.Count, windows.Count));
        }
        double ppl = Math.Exp(nll.Average());
        return new PerplexityResult(ppl, nll, windows[0].Length, windows.Sum(w => w.Length));
    }
}
