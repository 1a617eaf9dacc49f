namespace EdgeLlm.Inference.Backends.Cuda;

public sealed partial class CudaBackend
{
    private readonly Dictionary<(int Rows, int Segments, int Stride, int Tiles, int DecodeRows, int PrefixTiles), CudaGraph> graphs = new();
    private readonly HashSet<(int, int, int, int, int, int)> ranPlainly = new();

    /// <summary>Replay decode steps as captured CUDA graphs, one per step shape (default); false launches every kernel.</summary>
    public bool UseGraphs { get; set; } = true;

    /// <summary>Captured decode-step graphs held now.</summary>
    public int GraphCount => graphs.Count;

    /// <summary>
    /// Runs a step's device work (<paramref name="body"/>: embedding, blocks, final norm), after <see cref="BeginStep"/>.
    /// A decode step (<paramref name="capturable"/>) is captured as a graph the second time its shape — rows, segments,
    /// block-table stride, attention tiles, shared-prefix tiles — comes (the first run allocates every buffer it needs, so the capture
    /// allocates nothing) and replayed from then on: the IBackend capture contract makes the kernels' sequence and
    /// arguments depend on that shape alone, and the step's tokens, positions and block tables sit in the "step"
    /// buffer BeginStep has just filled. Any re-allocation of a scratch buffer drops every graph.
    /// </summary>
    internal void RunStep(ForwardStep forwardStep, bool capturable, Action body)
    {
        if (!capturable || !UseGraphs || Profile != null || forwardStep.Rows == 0) { body(); return; }
        var key = (forwardStep.Rows, forwardStep.Segments.Count, stepTable.TableStride, tileCount, decodeRowCount, prefixTileCount);
        if (graphs.TryGetValue(key, out var graph)) { graph.Launch(); return; }
        if (ranPlainly.Add(key)) { body(); return; }
        try { graph = device.Capture(body); }
        catch (CudaException e)
        {
            // A driver or library that refuses capture costs speed, not results: launch kernel by kernel from now on.
            UseGraphs = false;
            GraphFailure = e.Message;
            device.Synchronize();
            body();
            return;
        }
        graphs[key] = graph;
        graph.Launch();
    }

    /// <summary>Why capture was given up, if it was.</summary>
    public string? GraphFailure { get; private set; }

    private void DropGraphs()
    {
        foreach (var g in graphs.Values) g.Dispose();
        graphs.Clear();
        ranPlainly.Clear();
    }
}
