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
    private StepTable stepTable;
    private byte[] stepHost = [];

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
        long intsBytes = 3L * rows * 4, blocksAt = (intsBytes + 15) / 16 * 16, total = blocksAt + 8L * segments * stride;
        if (stepHost.Length < total) stepHost = new byte[total + total / 4];
        var ints = MemoryMarshal.Cast<byte, int>(stepHost.AsSpan(0, (int)intsBytes));
        step.Tokens.CopyTo(ints);
        step.RowSegment.CopyTo(ints[rows..]);
        step.RowPosition.CopyTo(ints[(2 * rows)..]);
        var blocks = MemoryMarshal.Cast<byte, ulong>(stepHost.AsSpan((int)blocksAt, 8 * segments * stride));
        blocks.Clear();
        for (int s = 0; s < segments; s++)
            for (int i = 0; i < tables[s].Count; i++) blocks[s * stride + i] = tables[s][i];
        ulong p = Buffer("step", total);
        device.UploadAsync<byte>(p, stepHost.AsSpan(0, (int)total));
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
    /// Writes the step's keys and values into each row's blocks, then attends: one block of threads per (row, KV head)
    /// walks that row's positions (kernels/backend.cu be_paged_attention).
    /// </summary>
    public void Attention(int layer, Activation q, Activation k, Activation v, Activation output, AttentionShape shape)
    {
        int rows = step.Rows;
        if (rows == 0) return;
        var kvPool = pool ?? throw new InvalidOperationException("No cache of this backend exists.");
        int kvWidth = shape.KvHeads * shape.HeadDim, groups = shape.Heads / shape.KvHeads;
        if (kvPool.LayerWidths[layer] != kvWidth)
            throw new InvalidOperationException($"Layer {layer} attends {kvWidth} key/value channels; its cache holds {kvPool.LayerWidths[layer]}.");
        if (groups > 32 || groups * shape.HeadDim > 8 * 1024)
            throw new NotSupportedException($"Layer {layer}: {groups} query heads × {shape.HeadDim} channels per key/value head exceed the attention kernel's 8 outputs per thread.");
        int offset = checked((int)kvPool.LayerOffset(layer));
        Launch("be_kv_write", rows, 1, 128, 0, args.Reset().Ptr(Ptr(k)).Ptr(Ptr(v)).Int(k.Width).Int(v.Width).Struct(stepTable)
            .Int(offset).Int(kvWidth));
        int outputs = groups * shape.HeadDim;
        int threads = Math.Clamp((outputs + 7) / 8 + 31 & ~31, 128, 1024);
        int shared = (outputs + groups * threads) * 4;
        Launch("be_paged_attention", rows, shape.KvHeads, threads, shared, args.Reset().Ptr(Ptr(q)).Int(q.Width).Ptr(Ptr(output))
            .Int(output.Width).Struct(stepTable).Int(offset).Int(kvWidth).Int(shape.KvHeads).Int(groups).Int(shape.HeadDim)
            .Float(shape.Scale).Int(shape.SlidingWindow));
    }
}
