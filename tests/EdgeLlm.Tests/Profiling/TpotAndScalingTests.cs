using EdgeLlm.Checkpoints;
using EdgeLlm.Profiling;

namespace EdgeLlm.Tests.Profiling;

public class TpotAndScalingTests
{
    [Fact]
    public void BandwidthBoundTpotForLlama3OnThe12GbPhone()
    {
        // Streamed per token: every linear (32 · (218,112,000 − 8,192 norm) = 6,979,321,856) + head 525,336,576
        //   = 7,504,658,432 params · 2 B = 15,009,316,864 B; KV at 4096 fp16 = 536,870,912 B.
        // (15,009,316,864 + 536,870,912) / 68.3e9 B/s = 0.2276162... s
        var e = TpotEstimator.Estimate(ModelConfig.Parse(ModelPresets.Config("llama-3-8b")), DeviceProfile.Resolve("phone-12gb"), 4096, DType.F16, DType.F16);
        Assert.Equal(15_009_316_864L, e.WeightBytesPerToken);
        Assert.Equal(536_870_912L, e.KvBytesPerToken);
        Assert.Equal(15_546_187_776 / 68.3e9 * 1000, e.TpotMs, 9);
        Assert.Equal(227.616, e.TpotMs, 3);
    }

    [Fact]
    public void ExactLineIsRecovered()
    {
        // (10, 25), (20, 45), (30, 65) lie on phone = 2 · local + 5.
        var fit = ScalingModel.Fit([new(10, 25), new(20, 45), new(30, 65)]);
        Assert.Equal(2, fit.Slope, 12);
        Assert.Equal(5, fit.Intercept, 12);
        Assert.Equal(1, fit.RSquared, 12);
        Assert.Equal(85, fit.Predict(40), 9);
    }

    [Fact]
    public void LeastSquaresOnScatteredPairs()
    {
        // x = 1, 2, 3; y = 2, 3, 5: mean x 2, mean y 10/3; Sxx = 2; Sxy = (−1)(−4/3) + 0 + (1)(5/3) = 3
        // slope 3/2, intercept 10/3 − 3 = 1/3. Fitted 11/6, 10/3, 29/6; residuals 1/6, −1/3, 1/6 → SSres 1/6;
        // SStot = 16/9 + 1/9 + 25/9 = 14/3; R² = 1 − (1/6)/(14/3) = 1 − 1/28 = 27/28.
        var fit = ScalingModel.Fit([new(1, 2), new(2, 3), new(3, 5)]);
        Assert.Equal(1.5, fit.Slope, 12);
        Assert.Equal(1.0 / 3, fit.Intercept, 12);
        Assert.Equal(27.0 / 28, fit.RSquared, 12);
    }

    [Fact]
    public void OnePairGivesARatio()
    {
        var fit = ScalingModel.Fit([new(10, 30)]);
        Assert.Equal(3, fit.Slope);
        Assert.Equal(0, fit.Intercept);
    }

    [Fact]
    public void NonPositiveTimesAreRejected() =>
        Assert.Contains("(0, 5)", Assert.Throws<ArgumentException>(() => ScalingModel.Fit([new(0, 5)])).Message);
}
