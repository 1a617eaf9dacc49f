namespace EdgeLlm.Evaluation.Ranking;

/// <summary>
/// One submission: its score on each task (higher is better; each task keeps its own scale, e.g. TruthfulQA's
/// bleu_acc is 0–1 and the others 0–100 — scores are only ever compared within a task), its phone throughput
/// score (tokens/s, higher is better) and, when measured, its peak inference memory in GB.
/// </summary>
public sealed record Submission(string Name, IReadOnlyDictionary<string, double> TaskScores, double Throughput)
{
    /// <summary>Peak memory during inference in GB; at or over <see cref="ChallengeRanking.MemoryLimitGb"/> disqualifies. Null: not measured.</summary>
    public double? PeakMemoryGb { get; init; }
}

/// <summary>A submission's points per task, for throughput, and in total; a disqualified one has no points and says why.</summary>
public sealed record RankedSubmission(string Name, IReadOnlyDictionary<string, int> TaskPoints, int ThroughputPoints, int Total)
{
    public string? Disqualified { get; init; }
}

/// <summary>
/// The challenge's ranking as published (edge-llms-challenge.github.io/challenge, "Metrics"): each task ranks the
/// submissions by score and the top ten get 10, 9, …, 1 points; the final score is the sum over tasks. Throughput is
/// ranked the same way with its points doubled (20, 18, …, 2; issue 14). "To qualify, the peak memory usage of all
/// models must be less than 12GB": a submission whose peak memory is 12 GB or more is disqualified — it gets no
/// points and takes no place, so the others rank as if it were absent. Ties are not specified by the organizers;
/// here they share the better place (standard competition ranking: 1, 2, 2, 4), so tied submissions get the same
/// points and the next one gets the points of its place. A submission missing a task score gets no points for it.
/// </summary>
public static class ChallengeRanking
{
    public const double MemoryLimitGb = 12;

    public static IReadOnlyList<RankedSubmission> Rank(IReadOnlyList<Submission> submissions)
    {
        var tasks = submissions.SelectMany(s => s.TaskScores.Keys).Distinct().OrderBy(t => t, StringComparer.Ordinal).ToList();
        var qualified = submissions.Select(s => Disqualification(s) is null).ToList();
        double? Value(int i, double? v) => qualified[i] ? v : null;
        var taskPoints = tasks.ToDictionary(t => t, t => Points(submissions.Select((s, i) => Value(i, s.TaskScores.TryGetValue(t, out var v) ? v : null)).ToList()));
        var throughputPoints = Points(submissions.Select((s, i) => Value(i, s.Throughput)).ToList());
        return submissions.Select((s, i) =>
        {
            var perTask = tasks.ToDictionary(t => t, t => taskPoints[t][i]);
            int throughput = 2 * throughputPoints[i];
            return new RankedSubmission(s.Name, perTask, throughput, perTask.Values.Sum() + throughput) { Disqualified = Disqualification(s) };
        }).OrderBy(r => r.Disqualified is null ? 0 : 1).ThenByDescending(r => r.Total).ThenBy(r => r.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Why a submission is disqualified, or null when it qualifies (memory not measured counts as qualifying).</summary>
    public static string? Disqualification(Submission s) => s.PeakMemoryGb switch
    {
        double m when double.IsNaN(m) => throw new ArgumentException($"{s.Name}: peak memory is NaN"),
        double m when m >= MemoryLimitGb => $"peak memory {m} GB is not less than the challenge's {MemoryLimitGb} GB limit",
        _ => null,
    };

    /// <summary>Place p (1-based, ties share the best place) earns max(11 − p, 0); a missing value earns 0.</summary>
    public static int[] Points(IReadOnlyList<double?> values)
    {
        var points = new int[values.Count];
        for (int i = 0; i < values.Count; i++)
        {
            if (values[i] is not double v || double.IsNaN(v)) continue;
            int place = 1 + values.Count(o => o is double w && !double.IsNaN(w) && w > v);
            points[i] = Math.Max(11 - place, 0);
        }
        return points;
    }
}
