using System.Numerics.Tensors;
using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Inference.Backends;

/// <summary>
/// Causal scaled-dot-product attention of the new rows against their sequences' caches, with
/// grouped-query sharing of key/value heads and an optional sliding window. Keys and values of the new
/// rows are written into the caches first, so a row attends to earlier positions of its sequence and to itself.
/// </summary>
internal static class CpuAttention
{
    [ThreadStatic] private static float[]? scores;

    public static void Run(ForwardStep step, int layer, AttentionShape shape, float[] q, float[] k, float[] v, float[] output)
    {
        int heads = shape.Heads, kvHeads = shape.KvHeads, headDim = shape.HeadDim, window = shape.SlidingWindow;
        float scale = shape.Scale;
        int kvWidth = kvHeads * headDim, qWidth = heads * headDim;
        for (int r = 0; r < step.Rows; r++)
        {
            var cache = Storage(step, r);
            int pos = step.RowPosition[r];
            Array.Copy(k, r * kvWidth, cache.Keys(layer), pos * kvWidth, kvWidth);
            Array.Copy(v, r * kvWidth, cache.Values(layer), pos * kvWidth, kvWidth);
        }
        int groups = heads / kvHeads;
        int work = step.Rows * heads;
        void Head(int item)
        {
            int r = item / heads, h = item % heads, kvh = h / groups;
            var cache = Storage(step, r);
            int end = step.RowPosition[r] + 1;
            int start = window > 0 ? Math.Max(0, end - window) : 0;
            int length = end - start;
            var keys = cache.Keys(layer);
            var values = cache.Values(layer);
            var s = scores is { } buf && buf.Length >= length ? buf : (scores = new float[Math.Max(length, 256)]);
            var query = q.AsSpan(r * qWidth + h * headDim, headDim);
            for (int j = 0; j < length; j++)
                s[j] = TensorPrimitives.Dot(query, keys.AsSpan((start + j) * kvWidth + kvh * headDim, headDim)) * scale;
            var p = s.AsSpan(0, length);
            float max = TensorPrimitives.Max(p);
            TensorPrimitives.Subtract(p, max, p);
            TensorPrimitives.Exp(p, p);
            float sum = TensorPrimitives.Sum(p);
            var o = output.AsSpan(r * qWidth + h * headDim, headDim);
            o.Clear();
            for (int j = 0; j < length; j++)
                TensorPrimitives.MultiplyAdd(values.AsSpan((start + j) * kvWidth + kvh * headDim, headDim), p[j] / sum, o, o);
        }
        long cost = (long)work * step.MaxSpan * headDim;
        if (cost < 1 << 15) for (int i = 0; i < work; i++) Head(i);
        else WorkerTeam.For(0, work, Head);
    }

    private static HostKvStorage Storage(ForwardStep step, int row) =>
        step.Segments[step.RowSegment[row]].Cache.Storage as HostKvStorage
        ?? throw new InvalidOperationException("The CPU backend attends over caches it created (CausalLM.NewCache).");
}
