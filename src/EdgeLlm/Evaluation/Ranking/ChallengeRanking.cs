namespace EdgeLlm.Evaluation.Ranking;

/// <summary>One submission: its score on each task (higher is better) and its throughput (tokens/s, higher is better).</summary>
public sealed record Submission(string Name, IReadOnlyDictionary<string, double> TaskScores, double Throughput);

/// <summary>A submission's points per task, for throughput, and in total.</summary>
public sealed record RankedSubmission(string Name, IReadOnlyDictionary<string, int> TaskPoints, int ThroughputPoints, int Total);

/// <summary>
/// The challenge's ranking as the issue states it: on each task the top ten get 10, 9, …, 1 points;
/// throughput gets double points (20, 18, …, 2); the total is their sum. Ties share the better place
/// (standard competition ranking: 1, 1, 3 …), so tied submissions get the same points and the next one
/// gets the points of its place. A submission missing a task score gets no points for that task.
/// </summary>
public static class ChallengeRanking
{
    public static IReadOnlyList<RankedSubmission> Rank(IReadOnlyList<Submission> submissions)
    {
        var tasks = submissions.SelectMany(s => s.TaskScores.Keys).Distinct().OrderBy(t => t, StringComparer.Ordinal).ToList();
        var taskPoints = tasks.ToDictionary(t => t, t => Points(submissions.Select(s => s.TaskScores.TryGetValue(t, out var v) ? v : (double?)null).ToList()));
        var throughputPoints = Points(submissions.Select(s => (double?)s.Throughput).ToList());
        return submissions.Select((s, i) =>
        {
            var perTask = tasks.ToDictionary(t => t, t => taskPoints[t][i]);
            int throughput = 2 * throughputPoints[i];
            return new RankedSubmission(s.Name, perTask, throughput, perTask.Values.Sum() + throughput);
        }).OrderByDescending(r => r.Total).ThenBy(r => r.Name, StringComparer.Ordinal).ToList();
    }

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
