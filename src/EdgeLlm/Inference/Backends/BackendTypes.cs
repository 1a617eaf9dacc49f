using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Backends;

/// <summary>A weight matrix held by a backend: <c>[Rows = outputs, Columns = inputs]</c> in its stored dtype.</summary>
public abstract class DeviceMatrix(string name, int rows, int columns, DType dtype)
{
    /// <summary>The checkpoint tensor name.</summary>
    public string Name { get; } = name;
    public int Rows { get; } = rows;
    public int Columns { get; } = columns;
    public DType DType { get; } = dtype;
}

/// <summary>A float32 vector (norm weight, bias) held by a backend.</summary>
public abstract class DeviceVector(string name, int length)
{
    public string Name { get; } = name;
    public int Length { get; } = length;
}

/// <summary>Rotary frequencies held by a backend (see <see cref="IBackend.CreateRotary"/>).</summary>
public abstract class RotaryTable(RopeConfig rope)
{
    public RopeConfig Rope { get; } = rope;
    public int RotaryDim => Rope.RotaryDim;
}

/// <summary>A float32 activation buffer of the current step: <c>[rows, Width]</c> row-major, named by its role.</summary>
public abstract class Activation(string role, int width)
{
    public string Role { get; } = role;
    public int Width { get; } = width;
}

/// <summary>
/// float64 running sums held by a backend (on a GPU: device memory), so that statistics accumulate where the activations
/// are (<see cref="IBackend.AccumulateColumns"/>, <see cref="IBackend.AccumulateRowCosines"/>) and cross to the host only
/// when read (<see cref="IBackend.ReadAccumulator"/>). Dispose it to free it before the backend goes (the backend frees
/// what is left when it is disposed).
/// </summary>
public abstract class Accumulator(int length) : IDisposable
{
    public int Length { get; } = length;

    public abstract void Dispose();
}

/// <summary>One product output = input · Weightᵀ (+ Bias) of <see cref="IBackend.Linear"/>.</summary>
public sealed record LinearOutput(DeviceMatrix Weight, DeviceVector? Bias, Activation Output);

/// <summary>Query and key/value head counts of one attention call, the score scale, and an optional sliding window (0: none).</summary>
public sealed record AttentionShape(int Heads, int KvHeads, int HeadDim, float Scale, int SlidingWindow = 0);

/// <summary>A contiguous range of the step's rows.</summary>
public readonly record struct RowRange(int Start, int Count);

/// <summary>Elementwise activations of MLPs, named as transformers' <c>hidden_act</c> names them.</summary>
public enum ActivationFunction
{
    /// <summary>x · sigmoid(x) ("silu", "swish").</summary>
    Silu,
    /// <summary>The tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) ("gelu_new", "gelu_pytorch_tanh", "gelu_fast").</summary>
    GeluTanh,
    /// <summary>Exact 0.5·x·(1 + erf(x/√2)) ("gelu").</summary>
    Gelu,
}

/// <summary>transformers' <c>hidden_act</c> names of the supported activations.</summary>
public static class ActivationFunctions
{
    /// <summary>The activation a config's <c>hidden_act</c> names; <see cref="NotSupportedException"/> for any other.</summary>
    public static ActivationFunction Parse(string hiddenAct) => hiddenAct switch
    {
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => ActivationFunction.GeluTanh,
        "gelu" => ActivationFunction.Gelu,
        "silu" or "swish" => ActivationFunction.Silu,
        _ => throw new NotSupportedException($"Activation '{hiddenAct}' is not supported (supported: silu, swish, gelu, gelu_new, gelu_pytorch_tanh, gelu_fast)."),
    };
}

/// <summary>
/// The rows of one forward step: the segments (sequences and their new tokens) stacked in order, and for each row its
/// token id, its segment and its absolute position (the segment's cache length before the step + its index in the segment).
/// </summary>
public sealed class ForwardStep
{
    public ForwardStep(IReadOnlyList<Segment> segments)
    {
        Segments = segments;
        Rows = segments.Sum(s => s.Tokens.Length);
        Tokens = new int[Rows];
        RowSegment = new int[Rows];
        RowPosition = new int[Rows];
        SegmentStart = new int[segments.Count];
        int r = 0;
        for (int s = 0; s < segments.Count; s++)
        {
            SegmentStart[s] = r;
            for (int i = 0; i < segments[s].Tokens.Length; i++, r++)
            {
                Tokens[r] = segments[s].Tokens[i];
                RowSegment[r] = s;
                RowPosition[r] = segments[s].Cache.Length + i;
            }
        }
    }

    public IReadOnlyList<Segment> Segments { get; }
    public int Rows { get; }
    public int[] Tokens { get; }
    /// <summary>Row → segment index.</summary>
    public int[] RowSegment { get; }
    /// <summary>Row → absolute position in its sequence.</summary>
    public int[] RowPosition { get; }
    /// <summary>Segment → its first row.</summary>
    public int[] SegmentStart { get; }

    public RowRange AllRows => new(0, Rows);

    public RowRange RowsOf(int segment) => new(SegmentStart[segment], Segments[segment].Tokens.Length);

    /// <summary>The largest position of any row + 1 (the longest attention span in this step).</summary>
    public int MaxSpan => Rows == 0 ? 0 : RowPosition.Max() + 1;
}

/// <summary>
/// One sequence's key/value storage inside a backend (see <see cref="IBackend.CreateKvStorage"/>). Positions at or beyond
/// the owning <see cref="KvCache.Length"/> are garbage; <see cref="KvCache"/> tracks the length.
/// </summary>
public interface IKvStorage
{
    /// <summary>Positions the storage holds room for.</summary>
    int Capacity { get; }

    /// <summary>Bytes the storage takes.</summary>
    long Bytes { get; }

    /// <summary>Grows to at least <paramref name="capacity"/> positions, keeping the first <paramref name="keep"/>.</summary>
    void Grow(int capacity, int keep);

    /// <summary>A new storage of <paramref name="capacity"/> positions holding a copy of the first <paramref name="length"/>.</summary>
    IKvStorage Copy(int length, int capacity);

    /// <summary>
    /// A new storage of <paramref name="capacity"/> positions whose first <paramref name="length"/> are this one's: shared,
    /// not copied, where the backend can (a paged pool's whole blocks; the block holding the last of them is copied), so a
    /// few-shot prefix is stored and read once for every sequence that starts with it. A copy by default.
    /// </summary>
    IKvStorage Share(int length, int capacity) => Copy(length, capacity);

    /// <summary>
    /// Called before positions from <paramref name="from"/> on are written: anything there still shared with another
    /// storage (after <see cref="KvCache.Truncate"/> into a shared prefix) is copied first. Nothing by default.
    /// </summary>
    void PrepareWrite(int from) { }

    /// <summary>Gives the storage's memory back now (a GPU pool's blocks) rather than when it is collected; nothing by default.</summary>
    void Release() { }
}
