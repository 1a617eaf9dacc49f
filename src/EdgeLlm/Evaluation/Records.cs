namespace EdgeLlm.Evaluation;

internal static class Records
{
    public static SampleRecord Make(string task, EvalSample sample, int index, string output, string extracted, double score,
        Dictionary<string, double>? metrics = null) => new()
    {
        Task = task, Subset = sample.Subset, Id = sample.Id, Index = index, Prompt = sample.Prompt, Output = output,
        Extracted = extracted, Reference = sample.Reference, Score = score, Metrics = metrics,
    };
}
