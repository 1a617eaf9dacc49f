namespace EdgeLlm.Profiling;

/// <summary>A measured pair: the same model and settings timed here and on the phone.</summary>
public sealed record TpotPair(double LocalTpotMs, double PhoneTpotMs);

/// <summary>phone_tpot ≈ Slope · local_tpot + Intercept, least squares over user-supplied pairs.</summary>
public sealed record ScalingModel(double Slope, double Intercept, int Pairs, double RSquared)
{
    public double Predict(double localTpotMs) => Slope * localTpotMs + Intercept;

    /// <summary>Ordinary least squares. With one pair (or all local values equal) only a ratio can be fitted: intercept 0.</summary>
    public static ScalingModel Fit(IReadOnlyList<TpotPair> pairs)
    {
        if (pairs.Count == 0) throw new ArgumentException("A scaling model needs at least one (local, phone) pair.");
        foreach (var p in pairs)
            if (!(p.LocalTpotMs > 0) || !(p.PhoneTpotMs > 0))
                throw new ArgumentException($"TPOT pair ({p.LocalTpotMs}, {p.PhoneTpotMs}) is not two positive times.");
        int n = pairs.Count;
        double mx = pairs.Average(p => p.LocalTpotMs), my = pairs.Average(p => p.PhoneTpotMs);
        double sxx = pairs.Sum(p => (p.LocalTpotMs - mx) * (p.LocalTpotMs - mx));
        double sxy = pairs.Sum(p => (p.LocalTpotMs - mx) * (p.PhoneTpotMs - my));
        if (n == 1 || sxx == 0)
            return new ScalingModel(my / mx, 0, n, double.NaN);
        double slope = sxy / sxx, intercept = my - slope * mx;
        double ssTot = pairs.Sum(p => (p.PhoneTpotMs - my) * (p.PhoneTpotMs - my));
        double ssRes = pairs.Sum(p => Math.Pow(p.PhoneTpotMs - (slope * p.LocalTpotMs + intercept), 2));
        return new ScalingModel(slope, intercept, n, ssTot == 0 ? 1 : 1 - ssRes / ssTot);
    }
}
