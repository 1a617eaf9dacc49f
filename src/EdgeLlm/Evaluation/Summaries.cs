namespace EdgeLlm.Evaluation;

/// <summary>How OpenCompass combines scores: accuracy ×100 per dataset, and a plain mean over a task's subsets.</summary>
public static class Summaries
{
    /// <summary>Mean sample score ×100 per subset, and the task score as the mean of the subsets (OpenCompass's naive average).</summary>
    public static TaskSummary MeanOfSubsets(string task, IReadOnlyList<SampleRecord> records, IReadOnlyDictionary<string, double>? metrics = null)
    {
        var subsets = records.GroupBy(r => r.Subset).OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => 100.0 * g.Sum(r => r.Score) / g.Count());
        double score = subsets.Count == 0 ? 0 : subsets.Values.Average();
        return new TaskSummary(task, score, records.Count, subsets, metrics ?? new Dictionary<string, double>());
    }
}
