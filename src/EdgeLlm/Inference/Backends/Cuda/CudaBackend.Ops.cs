using System.Runtime.InteropServices;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Inference.Backends.Cuda;

/// <summary>Where a step's row data lie on the device; the same layout as <c>struct StepTable</c> in kernels/backend.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct StepTable
{
    public ulong Token, Seq, Pos, Blocks;
    public int TableStride, BlockTokens;
}

public sealed partial class CudaBackend
{
    /// <summary>Rows per attention tile (consecutive rows of one segment that share their keys' loads).</summary>
    private const int TileRows = 64;

    /// <summary>Rows per tile of a shared-prefix group (be_paged_attention_prefix's 32 query vectors at most hold them at one query head each).</summary>
    private const int PrefixTileRows = 32;

    private StepTable stepTable;
    private byte[] stepHost = [];
    private ulong tiles, decodeRows, decodeFirsts, prefixRows, prefixTiles;
    private int tileCount, multiRowTiles, longestTile, decodeRowCount, prefixTileCount;

    /// <summary>
    /// Uploads, in one copy, each row's token, segment and position and each segment's block table
    /// (<c>[segments][longest table]</c> block addresses) to the "step" buffer the kernels read.
    /// </summary>
    public void BeginStep(ForwardStep forwardStep)
    {
        device.MakeCurrent();
        step = forwardStep;
        int rows = step.Rows, segments = step.Segments.Count;
        var tables = new IReadOnlyList<ulong>[segments];
        int stride = 1;
        for (int s = 0; s < segments; s++)
        {
            var storage = step.Segments[s].Cache.Storage as PagedKvStorage
                ?? throw new InvalidOperationException("The CUDA backend attends over caches it created (CausalLM.NewCache on the same model).");
            tables[s] = storage.Blocks;
            stride = Math.Max(stride, storage.Blocks.Count);
        }
        stride = (stride + 7) / 8 * 8; // in steps of 128 positions, so a captured decode graph serves 128 steps
        // Tiles of several rows first (prompt chunks: be_paged_attention), then the rows alone (decode rows: be_paged_decode).
        // With GemmPrefillAttention, segments of several rows go to cuBLAS whole (PrefillAttention) instead.
        var tileList = new List<(int First, int Count)>();
        var single = new List<int>();
        prefillSegments.Clear();
        bool gemm = GemmPrefillAttention;
        for (int s = 0; s < segments; s++)
        {
            var range = step.RowsOf(s);
            if (gemm && range.Count > 1)
            {
                prefillSegments.Add(new PrefillSegment(s, range.Start, range.Count, step.RowPosition[range.Start]));
                continue;
            }
            for (int r = 0; r < range.Count; r += TileRows)
            {
                int count = Math.Min(TileRows, range.Count - r);
                if (count == 1) single.Add(range.Start + r); else tileList.Add((range.Start + r, count));
            }
        }
        multiRowTiles = tileList.Count;
        longestTile = tileList.Count == 0 ? 1 : tileList.Max(t => t.Count);
        tileList.AddRange(single.Select(r => (r, 1)));
        decodeRowCount = single.Count;
        // Decode rows that share a prompt prefix attend to it together (be_paged_attention_prefix), each to the rest alone.
        var groups = UseSharedPrefixAttention && single.Count >= 2
            ? SharedPrefixGroups.Find(single.Select(r => tables[step.RowSegment[r]]).ToList(), single.Select(r => step.RowPosition[r]).ToList(),
                PagedKvPool.BlockTokens, SharedPrefixMinPositions)
            : [];
        var prefixTileList = new List<(int First, int Count, int Span)>();
        var groupRows = new List<int>();
        foreach (var group in groups)
        {
            for (int r = 0; r < group.Rows.Length; r += PrefixTileRows)
                prefixTileList.Add((groupRows.Count + r, Math.Min(PrefixTileRows, group.Rows.Length - r), group.Span));
            groupRows.AddRange(group.Rows);
        }
        prefixTileCount = prefixTileList.Count;
        SharedPrefixRowSteps += groupRows.Count;
        // Every offset depends only on what a captured graph is keyed by (rows, tiles, decode rows, prefix tiles, stride).
        long intsBytes = 3L * rows * 4, tilesAt = (intsBytes + 15) / 16 * 16, singleAt = tilesAt + 8L * tileList.Count;
        long firstsAt = singleAt + 4L * single.Count, prefixRowsAt = firstsAt + 4L * single.Count;
        long prefixTilesAt = (prefixRowsAt + 4L * single.Count + 15) / 16 * 16;
        long blocksAt = (prefixTilesAt + 16L * prefixTileCount + 15) / 16 * 16;
        long total = blocksAt + 8L * segments * stride;
        if (stepHost.Length < total) stepHost = new byte[total + total / 4];
        var ints = MemoryMarshal.Cast<byte, int>(stepHost.AsSpan(0, (int)intsBytes));
        step.Tokens.CopyTo(ints);
        step.RowSegment.CopyTo(ints[rows..]);
        step.RowPosition.CopyTo(ints[(2 * rows)..]);
        var tileInts = MemoryMarshal.Cast<byte, int>(stepHost.AsSpan((int)tilesAt, 8 * tileList.Count));
        for (int i = 0; i < tileList.Count; i++) { tileInts[2 * i] = tileList[i].First; tileInts[2 * i + 1] = tileList[i].Count; }
        tileCount = tileList.Count;
        single.CopyTo(MemoryMarshal.Cast<byte, int>(stepHost.AsSpan((int)singleAt, 4 * single.Count)));
        var firsts = MemoryMarshal.Cast<byte, int>(stepHost.AsSpan((int)firstsAt, 4 * single.Count));
        firsts.Clear();
        foreach (var group in groups)
            foreach (int i in group.Rows) firsts[i] = group.Span;
        groupRows.CopyTo(MemoryMarshal.Cast<byte, int>(stepHost.AsSpan((int)prefixRowsAt, 4 * single.Count)));
        var prefixInts = MemoryMarshal.Cast<byte, int>(stepHost.AsSpan((int)prefixTilesAt, 16 * prefixTileCount));
        for (int i = 0; i < prefixTileCount; i++)
        {
            prefixInts[4 * i] = prefixTileList[i].First; prefixInts[4 * i + 1] = prefixTileList[i].Count;
            prefixInts[4 * i + 2] = prefixTileList[i].Span; prefixInts[4 * i + 3] = 0;
        }
        var blocks = MemoryMarshal.Cast<byte, ulong>(stepHost.AsSpan((int)blocksAt, 8 * segments * stride));
        blocks.Clear();
        for (int s = 0; s < segments; s++)
            for (int i = 0; i < tables[s].Count; i++) blocks[s * stride + i] = tables[s][i];
        ulong p = Buffer("step", total);
        device.UploadAsync<byte>(p, stepHost.AsSpan(0, (int)total));
        tiles = p + (ulong)tilesAt;
        decodeRows = p + (ulong)singleAt;
        decodeFirsts = p + (ulong)firstsAt;
        prefixRows = p + (ulong)prefixRowsAt;
        prefixTiles = p + (ulong)prefixTilesAt;
        stepTable = new StepTable
        {
            Token = p, Seq = p + (ulong)(rows * 4), Pos = p + (ulong)(2 * rows * 4), Blocks = p + (ulong)blocksAt,
            TableStride = stride, BlockTokens = PagedKvPool.BlockTokens,
        };
    }

    public void Embed(DeviceMatrix table, Activation output)
    {
        var m = Dev(table);
        if (!m.Plain || m.Stride != 1) throw new InvalidOperationException($"The embedding '{m.Name}' is not a plain device matrix.");
        if (step.Rows == 0) return;
        string suffix = m.DType switch { DType.F16 => "f16", DType.BF16 => "bf16", _ => "f32" };
        Launch("be_embed_" + suffix, step.Rows, 1, 256, 0,
            args.Reset().Ptr(m.Buffer + (ulong)(m.Lo * m.RowBytes)).Ptr(stepTable.Token).Ptr(Ptr(output)).Int(output.Width));
    }

    public void RmsNorm(Activation x, DeviceVector weight, float eps, Activation output) => Norm(x, weight, null, eps, output, 1);

    public void LayerNorm(Activation x, DeviceVector weight, DeviceVector bias, float eps, Activation output) => Norm(x, weight, bias, eps, output, 2);

    private void Norm(Activation x, DeviceVector weight, DeviceVector? bias, float eps, Activation output, int mode)
    {
        if (step.Rows == 0) return;
        Launch("be_norm", step.Rows, 1, 256, 0, args.Reset().Ptr(Ptr(x)).Int(x.Width).Ptr(Ptr(weight)).Ptr(Ptr(bias))
            .Ptr(Ptr(output)).Int(output.Width).Int(weight.Length).Int(mode).Float(eps));
    }

    public void CopyColumns(Activation source, int firstColumn, Activation destination)
    {
        long work = (long)step.Rows * destination.Width;
        if (work == 0) return;
        Launch("be_copy_columns_f32", Blocks(work), 1, 256, 0, args.Reset().Ptr(Ptr(source)).Int(source.Width).Int(firstColumn)
            .Ptr(Ptr(destination)).Int(destination.Width).Int(step.Rows).Int(destination.Width));
    }

    public void Rotary(Activation x, int heads, int headDim, RotaryTable table, RowRange rows)
    {
        int rot = table.RotaryDim;
        long work = (long)rows.Count * heads * (rot / 2);
        if (work == 0) return;
        Launch("be_rotary", Blocks(work), 1, 256, 0, args.Reset().Ptr(Ptr(x)).Int(x.Width).Int(rows.Start).Int(rows.Count)
            .Int(heads).Int(headDim).Int(rot).Ptr(((CudaRotary)table).InverseFrequencies).Ptr(stepTable.Pos));
    }

    public void ScaleByLogPosition(Activation x, int trainedLength)
    {
        long work = (long)step.Rows * x.Width;
        if (work == 0) return;
        Launch("be_scale_log_position", Blocks(work), 1, 256, 0, args.Reset().Ptr(Ptr(x)).Int(x.Width).Int(step.Rows).Int(x.Width)
            .Ptr(stepTable.Pos).Int(trainedLength));
    }

    public void SiluMultiply(Activation gate, Activation up) => Elementwise(gate, up, 1);

    public void Activate(ActivationFunction function, Activation x) => Elementwise(x, null, function switch
    {
        ActivationFunction.Silu => 2,
        ActivationFunction.GeluTanh => 3,
        _ => 4,
    });

    public void Add(Activation x, Activation delta) => Elementwise(x, delta, 0);

    private void Elementwise(Activation x, Activation? y, int op)
    {
        long count = (long)step.Rows * x.Width;
        if (count == 0) return;
        Launch("be_elementwise", Blocks(count), 1, 256, 0, args.Reset().Ptr(Ptr(x)).Ptr(y is null ? 0 : Ptr(y)).Long(count).Int(op));
    }

    /// <summary>
    /// Writes the step's keys and values into each row's blocks, then attends. Prompt chunks: through cuBLAS
    /// (<see cref="PrefillAttention"/>), or without (<see cref="GemmPrefillAttention"/>) one block of threads per (row
    /// tile, KV head) walks the tile's key positions once for all its rows and query heads (kernels/paged_attention.cu
    /// be_paged_attention). Decode rows (a tile of one row): flash-decoding over (row, KV head, split) blocks
    /// (be_paged_decode2, or be_paged_decode: <see cref="DecodeKernelVersion"/>), when the head shape suits it (head_dim a multiple of 8 up to 128, at most 8 query heads per KV head).
    /// </summary>
    public void Attention(int layer, Activation q, Activation k, Activation v, Activation output, AttentionShape shape)
    {
        int rows = step.Rows;
        if (rows == 0) return;
        var kvPool = pool ?? throw new InvalidOperationException("No cache of this backend exists.");
        int kvWidth = shape.KvHeads * shape.HeadDim, groups = shape.Heads / shape.KvHeads, hd = shape.HeadDim;
        if (kvPool.LayerWidths[layer] != kvWidth)
            throw new InvalidOperationException($"Layer {layer} attends {kvWidth} key/value channels; its cache holds {kvPool.LayerWidths[layer]}.");
        int offset = checked((int)kvPool.LayerOffset(layer));
        Launch("be_kv_write", rows, 1, 128, 0, args.Reset().Ptr(Ptr(k)).Ptr(Ptr(v)).Int(k.Width).Int(v.Width).Struct(stepTable)
            .Int(offset).Int(kvWidth));
        foreach (var segment in prefillSegments) PrefillAttention(segment, q, output, shape, offset, kvWidth);
        bool decodeKernel = UseDecodeKernel && decodeRowCount > 0 && hd % 8 == 0 && hd <= 128 && groups <= 8;
        int tiled = decodeKernel ? multiRowTiles : tileCount;
        if (tiled > 0)
        {
            // ATT_VECTORS = 64 query vectors and ATT_MAX_OUT · ATT_THREADS = 8192 outputs per block (kernels/paged_attention.cu)
            int sub = Math.Min(Math.Min(64 / Math.Max(groups, 1), 8192 / Math.Max(groups * hd, 1)), longestTile);
            if (sub < 1)
                throw new NotSupportedException($"Layer {layer}: {groups} query heads × {hd} channels per key/value head exceed the attention kernel's 64 query vectors or 8192 outputs per block.");
            int vectors = sub * groups, tile = 32;
            int shared = (vectors * hd + tile * (hd + 1) + tile * hd + vectors * (tile + 1)) * 4;
            bool small = vectors * hd <= 8 * 128; // one row per tile: the 128-thread instance with 8 outputs per thread
            Launch(small ? "be_paged_attention_small" : "be_paged_attention", tiled, shape.KvHeads, small ? 128 : 256, shared, args.Reset().Ptr(Ptr(q)).Int(q.Width).Ptr(Ptr(output))
                .Int(output.Width).Struct(stepTable).Ptr(tiles).Int(offset).Int(kvWidth).Int(groups).Int(hd)
                .Float(shape.Scale).Int(shape.SlidingWindow).Int(sub));
        }
        if (!decodeKernel) return;
        int g = groups <= 1 ? 1 : groups <= 2 ? 2 : groups <= 4 ? 4 : 8;
        int capacity = stepTable.TableStride * stepTable.BlockTokens;
        int splits = DecodeSplits(decodeRowCount * shape.KvHeads, capacity);
        // A sliding window cuts into the prefix differently for every row: those layers attend each row alone.
        bool prefix = prefixTileCount > 0 && shape.SlidingWindow <= 0;
        int prefixSplits = prefix ? PrefixSplits(prefixTileCount * shape.KvHeads, capacity) : 0;
        int slots = splits + prefixSplits; // each row's partial results: its own splits, then its prefix's
        ulong part = slots > 1 ? Buffer("attention.splits", (long)decodeRowCount * shape.Heads * slots * (hd + 2) * 4) : 0;
        Launch($"be_paged_decode{(DecodeKernelVersion == 1 ? "" : "2")}_g{g}", decodeRowCount, shape.KvHeads, 128, 0, args.Reset().Ptr(Ptr(q)).Int(q.Width).Ptr(Ptr(output))
            .Int(output.Width).Ptr(part).Struct(stepTable).Ptr(decodeRows).Int(offset).Int(kvWidth).Int(groups).Int(hd)
            .Float(shape.Scale).Int(shape.SlidingWindow).Int(splits).Ptr(prefix ? decodeFirsts : 0).Int(slots), splits);
        if (prefix)
            Launch("be_paged_attention_prefix", prefixTileCount, shape.KvHeads, 128, 3 * 32 * (hd + 4) * 4, args.Reset().Ptr(Ptr(q)).Int(q.Width)
                .Ptr(part).Struct(stepTable).Ptr(decodeRows).Ptr(prefixTiles).Ptr(prefixRows).Int(offset).Int(kvWidth).Int(groups).Int(hd)
                .Float(shape.Scale).Int(splits).Int(slots), prefixSplits);
        if (slots > 1)
            Launch("be_paged_decode_combine", decodeRowCount, shape.Heads, 128, 0, args.Reset().Ptr(part).Ptr(decodeRows).Ptr(Ptr(output))
                .Int(output.Width).Int(hd).Int(slots));
    }

    /// <summary>
    /// Attend decode rows that share a prompt prefix to it together (be_paged_attention_prefix: the prefix read once per group),
    /// then each to its own positions (default; EDGELLM_CUDA_PREFIX_ATTENTION=0 starts a backend without, for the A/B).
    /// </summary>
    public bool UseSharedPrefixAttention
    {
        get => useSharedPrefixAttention;
        set { if (value != useSharedPrefixAttention) DropGraphs(); useSharedPrefixAttention = value; }
    }

    private bool useSharedPrefixAttention = Environment.GetEnvironmentVariable("EDGELLM_CUDA_PREFIX_ATTENTION") != "0";

    /// <summary>Positions a group of decode rows must share to be attended together (two blocks).</summary>
    internal const int SharedPrefixMinPositions = 2 * PagedKvPool.BlockTokens;

    /// <summary>Decode rows attended through a shared prefix, summed over every step so far (the self-test and benchmarks read it).</summary>
    public long SharedPrefixRowSteps { get; private set; }

    /// <summary>
    /// Splits of a shared prefix: enough (tile, KV head, split) blocks to fill the device about eight times over, but no split
    /// shorter than 128 of the positions the block tables can hold (fixed by the step shape, as <see cref="DecodeSplits"/>).
    /// </summary>
    private int PrefixSplits(int tileHeads, int capacity) =>
        Math.Clamp(Math.Min((8 * device.Multiprocessors + tileHeads - 1) / tileHeads, capacity / 128), 1, 32);

    /// <summary>Decode rows through be_paged_decode (default); false sends them through the tiled kernel, as prompt chunks.</summary>
    public bool UseDecodeKernel
    {
        get => useDecodeKernel;
        set { if (value != useDecodeKernel) DropGraphs(); useDecodeKernel = value; }
    }

    // EDGELLM_CUDA_DECODE_ATTENTION=tiled starts a backend on the tiled kernel, =v1 on the lane-per-position decode kernel:
    // the benchmark's A/B switches.
    private bool useDecodeKernel = Environment.GetEnvironmentVariable("EDGELLM_CUDA_DECODE_ATTENTION") != "tiled";

    /// <summary>
    /// The decode-row kernel: 2, be_paged_decode2 (a half-warp per position, coalesced loads; default), or 1, be_paged_decode
    /// (a lane per position).
    /// </summary>
    internal int DecodeKernelVersion
    {
        get => decodeKernelVersion;
        set { if (value != decodeKernelVersion) DropGraphs(); decodeKernelVersion = value; }
    }

    private int decodeKernelVersion = Environment.GetEnvironmentVariable("EDGELLM_CUDA_DECODE_ATTENTION") == "v1" ? 1 : 2;

    /// <summary>For the self-test: this many splits per decode row instead of <see cref="DecodeSplits"/>'s choice.</summary>
    internal int? DecodeSplitsOverride
    {
        get => decodeSplitsOverride;
        set { if (value != decodeSplitsOverride) DropGraphs(); decodeSplitsOverride = value; }
    }

    private int? decodeSplitsOverride;

    /// <summary>
    /// Splits per decode row: enough (row, KV head, split) blocks to fill the device about eight times over, but no split
    /// shorter than 64 of the positions the block tables can hold (the step shape fixes both, so a captured graph keeps it).
    /// </summary>
    private int DecodeSplits(int rowHeads, int capacity) => DecodeSplitsOverride ??
        Math.Clamp(Math.Min((8 * device.Multiprocessors + rowHeads - 1) / rowHeads, capacity / 64), 1, 32);
}
