using EdgeLlm.Tokenization;

namespace EdgeLlm.Calibration;

/// <summary>
/// Calibration text and how to cut it: <paramref name="Samples"/> windows of <paramref name="SeqLength"/> tokens drawn with
/// Python's random seeded by <paramref name="Seed"/>, as Wanda/SparseGPT's get_c4 draws them.
/// </summary>
/// <param name="Path">A C4 shard (.json.gz / JSON lines) or an Alpaca JSON array.</param>
public sealed record CalibrationData(string Path, int Samples = 128, int SeqLength = 2048, int Seed = 0)
{
    /// <summary>Tokenizes the text with the model folder's tokenizer and draws the windows.</summary>
    public IReadOnlyList<int[]> Sample(string modelDirectory, CancellationToken cancellationToken = default)
    {
        var tokenizer = Tokenizers.Load(modelDirectory);
        var documents = TextDocuments.Read(Path);
        return CalibrationSampler.Sample(documents, tokenizer, Samples, SeqLength, Seed, cancellationToken: cancellationToken);
    }

    /// <summary>How pruning.json and the results store name this calibration.</summary>
    public string Describe(int windows) => $"{Path}: {windows} windows of {SeqLength} tokens, seed {Seed}";
}
