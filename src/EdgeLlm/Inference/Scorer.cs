using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Inference;

/// <summary>The log-likelihood of a continuation after a context, and whether greedy decoding would have produced it.</summary>
public sealed record ContinuationScore(double LogLikelihood, int Tokens, bool IsGreedy);

/// <summary>
/// Log-likelihood scoring for evaluation: many sequences of different lengths are stacked into one
/// forward call (up to a token budget), and logits are computed a few rows at a time and reduced to
/// log-probabilities at once, so memory stays at rows × vocabulary for a small number of rows.
/// </summary>
public sealed class Scorer(CausalLM model, int maxBatchTokens = 2048)
{
    private const int LogitRows = 32;

    public CausalLM Model { get; } = model;

    /// <summary>log p(ids[t+1] | ids[..t]) for t = 0 … n−2.</summary>
    public float[] LogProbs(int[] ids, CancellationToken cancellationToken = default) =>
        LogProbs([ids], cancellationToken)[0];

    /// <summary>Per-sequence next-token log-probabilities, computed in batches.</summary>
    public IReadOnlyList<float[]> LogProbs(IReadOnlyList<int[]> sequences, CancellationToken cancellationToken = default)
    {
        var results = new float[sequences.Count][];
        foreach (var batch in Batches(sequences.Select(s => s.Length).ToList()))
        {
            var segments = batch.Select(i => new Segment(Model.NewCache(sequences[i].Length), sequences[i])).ToList();
            var hidden = Model.ForwardHidden(segments, cancellationToken);
            var targets = new List<(int Row, int Token, int Sequence, int Index)>();
            int row = 0;
            foreach (var i in batch)
            {
                var ids = sequences[i];
                results[i] = new float[Math.Max(ids.Length - 1, 0)];
                for (int t = 0; t + 1 < ids.Length; t++) targets.Add((row + t, ids[t + 1], i, t));
                row += ids.Length;
            }
            ScoreRows(hidden, targets.Select(t => (t.Row, t.Token)).ToList(), (j, lp, _) => results[targets[j].Sequence][targets[j].Index] = lp);
        }
        return results;
    }

    /// <summary>
    /// Scores each continuation after a shared context: the context is prefilled once, each candidate starts from a
    /// share of its cache (<see cref="KvCache.SharePrefix"/>: a GPU's blocks are not copied), and all run as one batch.
    /// </summary>
    public IReadOnlyList<ContinuationScore> ScoreContinuations(int[] context, IReadOnlyList<int[]> continuations,
        CancellationToken cancellationToken = default)
    {
        if (context.Length == 0) throw new ArgumentException("The context needs at least one token (a BOS token, say).", nameof(context));
        var prompt = Model.NewCache(context.Length + continuations.Max(c => c.Length));
        var contextHidden = Model.ForwardHidden([new Segment(prompt, context[..^0])], cancellationToken);
        var lastContextRow = contextHidden.AsSpan((context.Length - 1) * Model.Config.HiddenSize, Model.Config.HiddenSize).ToArray();

        var segments = continuations.Select(c => new Segment(prompt.SharePrefix(prompt.Length, prompt.Length + c.Length), c)).ToList();
        var hidden = Model.ForwardHidden(segments.Where(s => s.Tokens.Length > 0).ToList(), cancellationToken);
        int dim = Model.Config.HiddenSize;
        // Row layout for the reduction: row 0 is the context's last position, then each continuation's rows.
        var rows = new float[(1 + segments.Sum(s => s.Tokens.Length)) * dim];
        lastContextRow.CopyTo(rows, 0);
        hidden.AsSpan(0, segments.Sum(s => s.Tokens.Length) * dim).CopyTo(rows.AsSpan(dim));

        var sums = new double[continuations.Count];
        var greedy = Enumerable.Repeat(true, continuations.Count).ToArray();
        var targets = new List<(int Row, int Token)>();
        var owner = new List<int>();
        int offset = 1;
        for (int c = 0; c < continuations.Count; c++)
        {
            var tokens = continuations[c];
            for (int t = 0; t < tokens.Length; t++)
            {
                targets.Add((t == 0 ? 0 : offset + t - 1, tokens[t]));
                owner.Add(c);
            }
            offset += tokens.Length;
        }
        ScoreRows(rows, targets, (j, lp, isArgmax) => { sums[owner[j]] += lp; greedy[owner[j]] &= isArgmax; });
        return continuations.Select((c, i) => new ContinuationScore(sums[i], c.Length, greedy[i])).ToList();
    }

    private void ScoreRows(float[] hidden, IReadOnlyList<(int Row, int Token)> targets, Action<int, float, bool> emit)
    {
        int dim = Model.Config.HiddenSize, vocab = Model.VocabSize;
        var gathered = new float[LogitRows * dim];
        var logits = new float[LogitRows * vocab];
        for (int start = 0; start < targets.Count; start += LogitRows)
        {
            int count = Math.Min(LogitRows, targets.Count - start);
            for (int j = 0; j < count; j++)
                Array.Copy(hidden, targets[start + j].Row * dim, gathered, j * dim, dim);
            Model.Logits(gathered, count, logits);
            for (int j = 0; j < count; j++)
            {
                var row = logits.AsSpan(j * vocab, vocab);
                int token = targets[start + j].Token;
                emit(start + j, Ops.LogSoftmaxAt(row, token), System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row) == token);
            }
        }
    }

    private IEnumerable<List<int>> Batches(IReadOnlyList<int> lengths)
    {
        var batch = new List<int>();
        int tokens = 0;
        for (int i = 0; i < lengths.Count; i++)
        {
            if (batch.Count > 0 && tokens + lengths[i] > maxBatchTokens)
            {
                yield return batch;
                batch = new List<int>();
                tokens = 0;
            }
            batch.Add(i);
            tokens += lengths[i];
        }
        if (batch.Count > 0) yield return batch;
    }
}
