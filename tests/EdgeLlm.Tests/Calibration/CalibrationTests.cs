using EdgeLlm.Calibration;
using EdgeLlm.Inference;
using EdgeLlm.Tests.Checkpoints;
using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Calibration;

public class CalibrationTests
{
    internal static string TrainShard => SharedData.Path("datasets", "c4-format-pydoc", "c4-format-train.00000-of-00001.json.gz");
    internal static string ValidationShard => SharedData.Path("datasets", "c4-format-pydoc", "c4-format-validation.00000-of-00001.json.gz");

    [Fact]
    public void ChannelStatisticsMatchHandWorkedValues()
    {
        // Channel 0 sees 1, 3, 5: mean 3, sample variance ((−2)²+0²+2²)/2 = 4, ‖x‖ = √35.
        // Channel 1 sees 2, 2, 2: mean 2, variance 0, ‖x‖ = √12.
        var s = new ChannelStatistics(2);
        s.Add([1, 2, 3, 2], 2);
        s.Add([5, 2], 1);
        Assert.Equal(3, s.Tokens);
        Assert.Equal(3, s.Mean(0), 12); Assert.Equal(4, s.Variance(0), 12); Assert.Equal(Math.Sqrt(35), s.Norm(0), 12);
        Assert.Equal(2, s.Mean(1), 12); Assert.Equal(0, s.Variance(1), 12); Assert.Equal(Math.Sqrt(12), s.Norm(1), 12);
    }

    [Fact]
    public void SamplerFollowsGetC4WithPythonRandom()
    {
        var tokenizer = Tokenizers.Load(TestFiles.Trained);
        var docs = TextDocuments.ReadC4(TrainShard);
        Assert.Equal(400, docs.Count);
        var windows = CalibrationSampler.Sample(docs, tokenizer, 8, 128, seed: 0);
        // Replay the protocol with the reference generator: randint(0, 399) per draw until a document is longer than 128 tokens.
        var r = new PythonRandom(0);
        foreach (var w in windows)
        {
            int[] ids;
            do ids = tokenizer.Encode(docs[(int)r.RandInt(0, docs.Count - 1)], addSpecialTokens: true); while (ids.Length <= 128);
            int start = (int)r.RandInt(0, ids.Length - 128 - 1);
            Assert.Equal(ids[start..(start + 128)], w);
        }
    }

    [Fact]
    public void ValidationWindowsAndPerplexityReproduceTheFixture()
    {
        using var expected = new Expected(Path.Combine(TestFiles.Trained, "expected-perplexity.safetensors"));
        var ids = expected.Ids("val_windows");
        var windows = Perplexity.Windows(TextDocuments.ReadC4(ValidationShard), Tokenizers.Load(TestFiles.Trained), 256, 64);
        Assert.Equal(64, windows.Count);
        Assert.Equal(ids, windows.SelectMany(w => w).ToArray());

        using var model = CausalLM.Load(TestFiles.Trained);
        var result = Perplexity.Evaluate(model, windows.Take(16).ToList());
        // transformers' float32 NLL of the same 16 windows, from the fixture.
        double reference = Math.Exp(expected.Floats("val_window_nll").Take(16).Average(v => (double)v));
        Assert.True(Math.Abs(result.Perplexity / reference - 1) < 1e-3, $"perplexity {result.Perplexity} vs transformers {reference}");
    }

    [Fact]
    public void ResumedPassEqualsUninterruptedPass()
    {
        using var dir = new TempDir();
        var windows = CalibrationSampler.Sample(TextDocuments.ReadC4(TrainShard), Tokenizers.Load(TestFiles.Trained), 6, 64, seed: 3);
        using var model = CausalLM.Load(TestFiles.Trained);
        var whole = Calibrator.Run(model, windows);

        var state = dir.Path("stats.safetensors");
        using var cts = new CancellationTokenSource();
        var stopAfterFour = new InlineProgress<CalibrationProgress>(p => { if (p.SamplesDone == 4) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => Calibrator.Run(model, windows, state, saveEvery: 2, stopAfterFour, cts.Token));
        Assert.Equal(4, CalibrationStatistics.Load(state).SamplesDone);
        Assert.Null(model.Observer);

        var resumed = Calibrator.Run(model, windows, state, saveEvery: 2);
        Assert.Equal(6, resumed.SamplesDone);
        for (int layer = 0; layer < whole.NumLayers; layer++)
        {
            Assert.Equal(whole.Attention[layer].SumOfSquares, resumed.Attention[layer].SumOfSquares);
            Assert.Equal(whole.Mlp[layer].Sum, resumed.Mlp[layer].Sum);
            Assert.Equal(whole.BlockInfluence(layer), resumed.BlockInfluence(layer), 12);
        }
        var reloaded = CalibrationStatistics.Load(state);
        Assert.Equal(whole.Mlp[3].SumOfSquares, reloaded.Mlp[3].SumOfSquares);
        Assert.Equal(6 * 64, reloaded.Mlp[3].Tokens);

        var other = CalibrationSampler.Sample(TextDocuments.ReadC4(TrainShard), Tokenizers.Load(TestFiles.Trained), 6, 64, seed: 4);
        var e = Assert.Throws<InvalidOperationException>(() => Calibrator.Run(model, other, state));
        Assert.Contains(state, e.Message);
    }

    [Fact]
    public void BlockInfluenceIsOneMinusMeanCosine()
    {
        // Observed directly: record each layer's input and output for one window and average the cosines by hand.
        var windows = CalibrationSampler.Sample(TextDocuments.ReadC4(TrainShard), Tokenizers.Load(TestFiles.Trained), 1, 32, seed: 1);
        using var model = CausalLM.Load(TestFiles.Trained);
        var recorder = new Recorder();
        model.Observer = recorder;
        model.ForwardHidden([new Segment(model.NewCache(32), windows[0])]);
        model.Observer = null;
        var stats = Calibrator.Run(model, windows);
        for (int layer = 0; layer < 8; layer++)
        {
            double cos = 0;
            for (int r = 0; r < 32; r++)
            {
                var a = recorder.Inputs[layer].AsSpan(r * 256, 256); var b = recorder.Outputs[layer].AsSpan(r * 256, 256);
                double dot = 0, na = 0, nb = 0;
                for (int i = 0; i < 256; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
                cos += dot / Math.Sqrt(na * nb);
            }
            Assert.Equal(1 - cos / 32, stats.BlockInfluence(layer), 4);
        }
        // The first block changes the embedding most, as ShortGPT reports for real models.
        Assert.Equal(0, Enumerable.Range(0, 8).MaxBy(stats.BlockInfluence));
    }

    [Fact]
    public void CollectedSumsEqualSumsWorkedFromTheActivations()
    {
        // The collector accumulates in the backend (IBackend.AccumulateColumns / AccumulateRowCosines); the reference sums the
        // host copies a plain observer sees, in the same order (sample after sample, row after row), so the channel sums agree exactly.
        var windows = CalibrationSampler.Sample(TextDocuments.ReadC4(TrainShard), Tokenizers.Load(TestFiles.Trained), 3, 48, seed: 5);
        using var model = CausalLM.Load(TestFiles.Trained);
        var reference = new ReferenceSums(model.Config.NumLayers);
        model.Observer = reference;
        foreach (var w in windows) model.ForwardHidden([new Segment(model.NewCache(w.Length), w)]);
        model.Observer = null;
        var stats = Calibrator.Run(model, windows);
        Assert.Null(model.BackendObserver);
        for (int layer = 0; layer < stats.NumLayers; layer++)
        {
            Assert.Equal(reference.Sums[(Projection.AttentionOutput, layer)].Sum, stats.Attention[layer].Sum);
            Assert.Equal(reference.Sums[(Projection.AttentionOutput, layer)].Squares, stats.Attention[layer].SumOfSquares);
            Assert.Equal(reference.Sums[(Projection.MlpOutput, layer)].Sum, stats.Mlp[layer].Sum);
            Assert.Equal(reference.Sums[(Projection.MlpOutput, layer)].Squares, stats.Mlp[layer].SumOfSquares);
            Assert.Equal(3 * 48, stats.Attention[layer].Tokens);
            Assert.Equal(3 * 48, stats.Mlp[layer].Tokens);
            Assert.Equal(3 * 48, stats.CosineTokens[layer]);
            Assert.Equal(reference.Cosines[layer], stats.CosineSum[layer], 1e-5 * 3 * 48); // float32 cosines vs float64 ones
        }
    }

    private sealed class ReferenceSums(int layers) : IActivationObserver
    {
        public Dictionary<(Projection, int), (double[] Sum, double[] Squares)> Sums { get; } = new();
        public double[] Cosines { get; } = new double[layers];
        private float[] input = [];

        public void BlockInput(int layer, float[] hidden, int rows, int width) => input = hidden[..(rows * width)];

        public void ProjectionInput(int layer, Projection projection, float[] activations, int rows, int width)
        {
            if (!Sums.TryGetValue((projection, layer), out var s)) Sums[(projection, layer)] = s = (new double[width], new double[width]);
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < width; j++)
                {
                    double v = activations[r * width + j];
                    s.Sum[j] += v;
                    s.Squares[j] += v * v;
                }
        }

        public void BlockOutput(int layer, float[] hidden, int rows, int width)
        {
            for (int r = 0; r < rows; r++)
            {
                double dot = 0, na = 0, nb = 0;
                for (int i = 0; i < width; i++)
                {
                    double a = input[r * width + i], b = hidden[r * width + i];
                    dot += a * b; na += a * a; nb += b * b;
                }
                Cosines[layer] += dot / Math.Sqrt(na * nb);
            }
        }
    }

    [Fact]
    public void ObserversGetOnlyTheProjectionsTheyAskFor()
    {
        using var model = CausalLM.Load(SharedData.Path("fixtures", "hf-tiny", "llama-float32"));
        var ids = Enumerable.Range(1, 9).ToArray();
        var all = new Counter(_ => true);
        model.Observer = all;
        model.ForwardHidden([new Segment(model.NewCache(16), ids)]);
        var some = new Counter(p => p == Projection.MlpOutput);
        model.Observer = some;
        model.ForwardHidden([new Segment(model.NewCache(16), ids)]);
        model.Observer = null;
        int layers = model.Config.NumLayers;
        // Llama's blocks read four projection inputs each: q|k|v, the attention output, gate|up, the MLP output.
        Assert.Equal(4 * layers, all.Seen.Count);
        Assert.Equal(Enumerable.Repeat(Projection.MlpOutput, layers), some.Seen);
    }

    private sealed class Counter(Func<Projection, bool> wants) : IActivationObserver
    {
        public List<Projection> Seen { get; } = new();
        public bool Observes(Projection projection) => wants(projection);
        public void BlockInput(int layer, float[] hidden, int rows, int width) { }
        public void ProjectionInput(int layer, Projection projection, float[] activations, int rows, int width) => Seen.Add(projection);
        public void BlockOutput(int layer, float[] hidden, int rows, int width) { }
    }

    [Fact]
    public void AlpacaRecordsUseTheAlpacaPromptAndBadFilesNameTheProblem()
    {
        using var dir = new TempDir();
        var path = dir.Path("alpaca.json");
        File.WriteAllText(path, """[{"instruction":"Add 2 and 3.","input":"","output":"5"},{"instruction":"Translate","input":"chat","output":"cat"}]""");
        var docs = TextDocuments.Read(path);
        Assert.Equal("Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nAdd 2 and 3.\n\n### Response:\n5", docs[0]);
        Assert.Contains("### Input:\nchat\n\n### Response:\ncat", docs[1]);

        File.WriteAllText(path, """[{"instruction":"x"}]""");
        var e = Assert.Throws<FormatException>(() => TextDocuments.ReadAlpaca(path));
        Assert.Contains(path, e.Message); Assert.Contains("'output'", e.Message);

        var c4 = dir.Path("c4.jsonl");
        File.WriteAllText(c4, "{\"text\":\"a\"}\n{\"url\":\"no text\"}\n");
        e = Assert.Throws<FormatException>(() => TextDocuments.ReadC4(c4));
        Assert.Contains($"{c4}:2", e.Message);
    }

    private sealed class Recorder : IActivationObserver
    {
        public float[][] Inputs { get; } = new float[8][];
        public float[][] Outputs { get; } = new float[8][];
        public void BlockInput(int layer, float[] hidden, int rows, int width) => Inputs[layer] = hidden[..(rows * width)];
        public void ProjectionInput(int layer, Projection projection, float[] activations, int rows, int width) { }
        public void BlockOutput(int layer, float[] hidden, int rows, int width) => Outputs[layer] = hidden[..(rows * width)];
    }
}
