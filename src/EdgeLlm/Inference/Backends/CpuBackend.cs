using System.Numerics.Tensors;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Inference.Backends;

/// <summary>
/// The CPU backend: the engine's AVX-512 / portable kernels (<see cref="MatMul"/>, <see cref="Ops"/>,
/// <see cref="CpuAttention"/>) over weights read in place from the memory-mapped checkpoint and float32 scratch
/// arrays that grow and are reused across steps.
/// </summary>
public sealed class CpuBackend : IBackend
{
    private readonly Dictionary<string, float[]> buffers = new();
    private ForwardStep step = new([]);

    public CpuBackend(CpuBackendOptions? options = null) => Options = options ?? new CpuBackendOptions();

    public CpuBackendOptions Options { get; }

    public string Name => "cpu";

    public DeviceMatrix UploadMatrix(TensorView weight)
    {
        if (weight.Rank != 2) throw new ArgumentException($"'{weight.Name}' is not a matrix.");
        return new CpuMatrix(weight);
    }

    public DeviceVector UploadVector(TensorView vector) => new CpuVector(vector.Name, vector.ToFloatArray());

    public RotaryTable CreateRotary(RopeConfig rope) => new CpuRotary(rope);

    public IKvStorage CreateKvStorage(IReadOnlyList<int> layerWidths, int capacity) => new HostKvStorage(layerWidths, capacity);

    public void BeginStep(ForwardStep forwardStep) => step = forwardStep;

    internal ForwardStep Step => step;

    public Activation Scratch(string role, int width)
    {
        int length = step.Rows * width;
        if (!buffers.TryGetValue(role, out var b) || b.Length < length)
            buffers[role] = b = new float[length];
        return new CpuActivation(role, width, b);
    }

    public long ScratchBytes => buffers.Values.Sum(b => (long)b.Length * sizeof(float));

    public void TrimScratch(long keepBytes)
    {
        if (ScratchBytes > keepBytes) buffers.Clear();
    }

    public void Embed(DeviceMatrix table, Activation output)
    {
        var t = Cpu(table);
        var o = Cpu(output);
        int width = output.Width;
        for (int r = 0; r < step.Rows; r++) t.RowToFloat(step.Tokens[r], o.AsSpan(r * width, width));
    }

    public void RmsNorm(Activation x, DeviceVector weight, float eps, Activation output) =>
        Ops.RmsNorm(Span(x), Cpu(weight), eps, Span(output, weight.Length), weight.Length);

    public void LayerNorm(Activation x, DeviceVector weight, DeviceVector bias, float eps, Activation output) =>
        Ops.LayerNorm(Span(x), Cpu(weight), Cpu(bias), eps, Span(output, weight.Length), weight.Length);

    public void Linear(Activation input, IReadOnlyList<LinearOutput> targets)
    {
        var x = Cpu(input);
        if (targets.Count == 1)
        {
            var t = targets[0];
            MatMul.Linear(x.AsSpan(0, step.Rows * t.Weight.Columns), step.Rows, Cpu(t.Weight), t.Bias is null ? default : Cpu(t.Bias),
                Cpu(t.Output), Options.MatMul);
            return;
        }
        MatMul.Linear(x, step.Rows, Options.MatMul, targets.Select(t => new Kernels.LinearTarget(Cpu(t.Weight), t.Bias is null ? null : Cpu(t.Bias), Cpu(t.Output))).ToArray());
    }

    public void CopyColumns(Activation source, int firstColumn, Activation destination)
    {
        var s = Cpu(source);
        var d = Cpu(destination);
        int width = destination.Width;
        for (int r = 0; r < step.Rows; r++) Array.Copy(s, r * source.Width + firstColumn, d, r * width, width);
    }

    public void Rotary(Activation x, int heads, int headDim, RotaryTable table, RowRange rows)
    {
        var data = Cpu(x);
        var rope = ((CpuRotary)table).Embedding;
        int width = x.Width;
        for (int r = rows.Start; r < rows.Start + rows.Count; r++)
            rope.Apply(data.AsSpan(r * width, heads * headDim), heads, headDim, step.RowPosition[r]);
    }

    public void ScaleByLogPosition(Activation x, int trainedLength)
    {
        var data = Cpu(x);
        int width = x.Width;
        for (int r = 0; r < step.Rows; r++)
        {
            int p = step.RowPosition[r];
            if (p + 1 <= trainedLength) continue;
            var row = data.AsSpan(r * width, width);
            TensorPrimitives.Multiply(row, (float)(Math.Log(p + 1) / Math.Log(trainedLength)), row);
        }
    }

    public void Attention(int layer, Activation q, Activation k, Activation v, Activation output, AttentionShape shape) =>
        CpuAttention.Run(step, layer, shape, Cpu(q), Cpu(k), Cpu(v), Cpu(output));

    public void SiluMultiply(Activation gate, Activation up) => Ops.SiluMultiply(Span(gate), Span(up));

    public void Activate(ActivationFunction function, Activation x) => Ops.Activate(function, Span(x));

    public void Add(Activation x, Activation delta) => TensorPrimitives.Add(Span(x), Span(delta), Span(x));

    public void CopyToHost(Activation x, Span<float> destination) => Span(x).CopyTo(destination);

    public void Logits(ReadOnlySpan<float> hidden, int rows, DeviceMatrix head, DeviceVector? bias, Span<float> logits) =>
        MatMul.Linear(hidden[..(rows * head.Columns)], rows, Cpu(head), bias is null ? default : Cpu(bias), logits, Options.MatMul);

    public void GreedyTokens(Activation hidden, ReadOnlySpan<int> rows, DeviceMatrix head, DeviceVector? bias, Span<int> tokens)
    {
        var h = Cpu(hidden);
        int width = hidden.Width, vocab = head.Rows;
        var chosen = new float[rows.Length * width];
        for (int i = 0; i < rows.Length; i++)
        {
            if ((uint)rows[i] >= (uint)step.Rows) throw new ArgumentOutOfRangeException(nameof(rows), $"Row {rows[i]} is outside the step's {step.Rows} rows.");
            Array.Copy(h, rows[i] * width, chosen, i * width, width);
        }
        var logits = new float[rows.Length * vocab];
        Logits(chosen, rows.Length, head, bias, logits);
        for (int i = 0; i < rows.Length; i++)
        {
            var row = logits.AsSpan(i * vocab, vocab);
            tokens[i] = TensorPrimitives.IsNaNAny<float>(row) ? -1 : TensorPrimitives.IndexOfMax<float>(row);
        }
    }

    public Accumulator CreateAccumulator(ReadOnlySpan<double> initial) => new CpuAccumulator(initial.ToArray());

    public void ReadAccumulator(Accumulator sums, Span<double> destination) => Cpu(sums).CopyTo(destination);

    public void AccumulateColumns(Activation x, Accumulator sum, Accumulator sumOfSquares)
    {
        if (sum.Length != x.Width || sumOfSquares.Length != x.Width)
            throw new ArgumentException($"Column sums of {x.Width} columns need accumulators of {x.Width} values, not {sum.Length} and {sumOfSquares.Length}.");
        Ops.AccumulateColumns(Cpu(x), step.Rows, x.Width, Cpu(sum), Cpu(sumOfSquares));
    }

    public void AccumulateRowCosines(Activation a, Activation b, Accumulator sums, int index)
    {
        if (a.Width != b.Width) throw new ArgumentException($"Row cosines of {a.Width} against {b.Width} columns.");
        var x = Cpu(a);
        var y = Cpu(b);
        int width = a.Width;
        double total = 0;
        for (int r = 0; r < step.Rows; r++)
            total += TensorPrimitives.CosineSimilarity<float>(x.AsSpan(r * width, width), y.AsSpan(r * width, width));
        Cpu(sums)[index] += total;
    }

    public void Dispose() => buffers.Clear();

    /// <summary>The float32 array behind a CPU activation (its first rows × width values are the step's).</summary>
    internal static float[] Cpu(Activation a) => ((CpuActivation)a).Data;

    private static TensorView Cpu(DeviceMatrix m) => ((CpuMatrix)m).View;

    private static float[] Cpu(DeviceVector v) => ((CpuVector)v).Values;

    private Span<float> Span(Activation a) => ((CpuActivation)a).Data.AsSpan(0, step.Rows * a.Width);

    private Span<float> Span(Activation a, int width) => ((CpuActivation)a).Data.AsSpan(0, step.Rows * width);

    private static double[] Cpu(Accumulator a) => ((CpuAccumulator)a).Values;

    private sealed class CpuAccumulator(double[] values) : Accumulator(values.Length)
    {
        public double[] Values { get; } = values;

        public override void Dispose() { }
    }

    private sealed class CpuMatrix(TensorView view) : DeviceMatrix(view.Name, view.Rows, view.RowLength, view.DType)
    {
        public TensorView View { get; } = view;
    }

    private sealed class CpuVector(string name, float[] values) : DeviceVector(name, values.Length)
    {
        public float[] Values { get; } = values;
    }

    private sealed class CpuRotary(RopeConfig rope) : RotaryTable(rope)
    {
        public RotaryEmbedding Embedding { get; } = new(rope);
    }

    private sealed class CpuActivation(string role, int width, float[] data) : Activation(role, width)
    {
        public float[] Data { get; } = data;
    }
}

/// <summary>How the CPU backend runs its kernels; no option changes the numbers beyond float rounding order.</summary>
public sealed record CpuBackendOptions
{
    public MatMulOptions MatMul { get; init; } = MatMulOptions.Default;
}

/// <summary>Keys and values in host float32 arrays, <c>[position][kvHead·headDim]</c> per layer.</summary>
internal sealed class HostKvStorage : IKvStorage
{
    private readonly float[][] keys;
    private readonly float[][] values;
    private readonly int[] widths;

    public HostKvStorage(IReadOnlyList<int> layerWidths, int capacity)
    {
        widths = layerWidths.ToArray();
        Capacity = capacity;
        keys = widths.Select(w => new float[capacity * w]).ToArray();
        values = widths.Select(w => new float[capacity * w]).ToArray();
    }

    public int Capacity { get; private set; }

    public long Bytes => 2L * Capacity * widths.Sum(w => (long)w) * sizeof(float);

    public float[] Keys(int layer) => keys[layer];

    public float[] Values(int layer) => values[layer];

    public int Width(int layer) => widths[layer];

    public void Grow(int capacity, int keep)
    {
        if (capacity <= Capacity) return;
        for (int l = 0; l < keys.Length; l++)
        {
            Array.Resize(ref keys[l], capacity * widths[l]);
            Array.Resize(ref values[l], capacity * widths[l]);
        }
        Capacity = capacity;
    }

    public IKvStorage Copy(int length, int capacity)
    {
        var copy = new HostKvStorage(widths, capacity);
        for (int l = 0; l < keys.Length; l++)
        {
            Array.Copy(keys[l], copy.keys[l], length * widths[l]);
            Array.Copy(values[l], copy.values[l], length * widths[l]);
        }
        return copy;
    }
}
