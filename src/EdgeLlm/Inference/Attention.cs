using System.Numerics.Tensors;
using EdgeLlm.Inference.Kernels;

namespace EdgeLlm.Inference;

/// <summary>
/// Causal scaled-dot-product attention of the new rows against their sequences' caches, with
/// grouped-query sharing of key/value heads. Keys and values of the new rows are written into the
/// caches first, so a row attends to every earlier position of its sequence and to itself.
/// </summary>
internal static class Attention
{
    [ThreadStatic] private static float[]? scores;

    public static void Run(ForwardState state, int layer, int heads, int kvHeads, int headDim,
        float[] q, float[] k, float[] v, float[] output, float scale)
    {
        int kvWidth = kvHeads * headDim, qWidth = heads * headDim;
        for (int r = 0; r < state.Rows; r++)
        {
            var cache = state.Segments[state.RowSegment[r]].Cache;
            int pos = state.RowPosition[r];
            Array.Copy(k, r * kvWidth, cache.Keys(layer), pos * kvWidth, kvWidth);
            Array.Copy(v, r * kvWidth, cache.Values(layer), pos * kvWidth, kvWidth);
        }
        int groups = heads / kvHeads;
        int work = state.Rows * heads;
        void Head(int item)
        {
            int r = item / heads, h = item % heads, kvh = h / groups;
            var cache = state.Segments[state.RowSegment[r]].Cache;
            int length = state.RowPosition[r] + 1;
            var keys = cache.Keys(layer);
            var values = cache.Values(layer);
            var s = scores is { } buf && buf.Length >= length ? buf : (scores = new float[Math.Max(length, 256)]);
            var query = q.AsSpan(r * qWidth + h * headDim, headDim);
            for (int j = 0; j < length; j++)
                s[j] = TensorPrimitives.Dot(query, keys.AsSpan(j * kvWidth + kvh * headDim, headDim)) * scale;
            var p = s.AsSpan(0, length);
            float max = TensorPrimitives.Max(p);
            TensorPrimitives.Subtract(p, max, p);
            TensorPrimitives.Exp(p, p);
            float sum = TensorPrimitives.Sum(p);
            var o = output.AsSpan(r * qWidth + h * headDim, headDim);
            o.Clear();
            for (int j = 0; j < length; j++)
                TensorPrimitives.MultiplyAdd(values.AsSpan(j * kvWidth + kvh * headDim, headDim), p[j] / sum, o, o);
        }
        long cost = (long)work * (state.RowPosition.Max() + 1) * headDim;
        if (cost < 1 << 15) for (int i = 0; i < work; i++) Head(i);
        else WorkerTeam.For(0, work, Head);
    }
}
