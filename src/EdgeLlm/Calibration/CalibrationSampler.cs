using EdgeLlm.Tokenization;

namespace EdgeLlm.Calibration;

/// <summary>
/// The calibration windows of Wanda/SparseGPT's <c>get_c4</c>: <c>random.seed(seed)</c>, then per sample
/// draw documents with <c>randint(0, docs−1)</c> until one tokenizes (special tokens added, as the
/// Hugging Face tokenizer call does) to more than <c>seqlen</c> tokens, and take the window starting at
/// <c>randint(0, len − seqlen − 1)</c>.
/// </summary>
public static class CalibrationSampler
{
    public static IReadOnlyList<int[]> Sample(IReadOnlyList<string> documents, ITokenizer tokenizer, int samples, int seqLength,
        int seed = 0, int maxDraws = 1_000_000, CancellationToken cancellationToken = default)
    {
        if (samples <= 0) throw new ArgumentOutOfRangeException(nameof(samples), samples, "Need at least one calibration sample.");
        if (seqLength <= 0) throw new ArgumentOutOfRangeException(nameof(seqLength), seqLength, "Sequence length must be positive.");
        if (documents.Count == 0) throw new ArgumentException("No documents to sample from.", nameof(documents));
        var random = new PythonRandom(seed);
        var tokenized = new Dictionary<int, int[]>();
        var result = new List<int[]>(samples);
        int draws = 0;
        for (int s = 0; s < samples; s++)
        {
            int[] ids;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (++draws > maxDraws)
                    throw new InvalidOperationException($"After {maxDraws} draws no document was longer than {seqLength} tokens often enough; use a shorter sequence length.");
                int doc = (int)random.RandInt(0, documents.Count - 1);
                if (!tokenized.TryGetValue(doc, out ids!)) tokenized[doc] = ids = tokenizer.Encode(documents[doc], addSpecialTokens: true);
                if (ids.Length > seqLength) break;
            }
            int start = (int)random.RandInt(0, ids.Length - seqLength - 1);
            result.Add(ids[start..(start + seqLength)]);
        }
        return result;
    }
}
