namespace EdgeLlm.Inference;

/// <summary>
/// One forward call's bookkeeping: which sequence and position each row of the stacked activations
/// belongs to, and scratch buffers reused across calls (grown, never shrunk).
/// </summary>
internal sealed class ForwardState
{
    private readonly Dictionary<string, float[]> buffers = new();

    public IReadOnlyList<Segment> Segments { get; private set; } = [];
    /// <summary>Row → segment index.</summary>
    public int[] RowSegment { get; private set; } = [];
    /// <summary>Row → absolute position in its sequence.</summary>
    public int[] RowPosition { get; private set; } = [];
    public int Rows { get; private set; }

    public void Reset(IReadOnlyList<Segment> segments)
    {
        Segments = segments;
        Rows = segments.Sum(s => s.Tokens.Length);
        RowSegment = new int[Rows];
        RowPosition = new int[Rows];
        int r = 0;
        for (int s = 0; s < segments.Count; s++)
            for (int i = 0; i < segments[s].Tokens.Length; i++, r++)
            {
                RowSegment[r] = s;
                RowPosition[r] = segments[s].Cache.Length + i;
            }
    }

    /// <summary>A scratch buffer of at least rows × width floats, named so each role keeps its own.</summary>
    public float[] Buffer(string name, int width)
    {
        int length = Rows * width;
        if (!buffers.TryGetValue(name, out var b) || b.Length < length)
            buffers[name] = b = new float[length];
        return b;
    }

    public long BufferBytes => buffers.Values.Sum(b => (long)b.Length * sizeof(float));

    /// <summary>Drops buffers larger than a decode step needs after a long prefill.</summary>
    public void Trim(long keepBytes)
    {
        if (BufferBytes > keepBytes) buffers.Clear();
    }
}
