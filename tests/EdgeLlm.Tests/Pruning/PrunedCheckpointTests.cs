using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Pruning;
using EdgeLlm.Tests.Checkpoints;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Pruning;

/// <summary>
/// Removing a structure whose output weights are zero cannot change the model: a KV group whose query
/// heads' o_proj columns are zero, MLP channels whose down_proj columns are zero, a layer whose o_proj and
/// down_proj are zero (the block is then the identity). So the pruned folder must give the same logits
/// as the full model with those weights zeroed — a check of slicing, GQA grouping, renumbering and config.
/// </summary>
public class PrunedCheckpointTests
{
    [Fact]
    public void PrunedModelEqualsFullModelWithRemovedStructuresZeroed()
    {
        using var dir = new TempDir();
        const int removedGroup = 1, removedLayer = 5, hd = 32, groups = 2;
        var removedChannels = Enumerable.Range(0, 704).Where(j => j % 5 == 2).ToHashSet();
        using var source = Checkpoint.Open(TestFiles.Trained);
        var c = source.Config;

        bool ZeroColumn(string name, int col)
        {
            if (!name.StartsWith("model.layers.")) return false;
            int layer = int.Parse(name.Split('.')[2]);
            if (name.EndsWith("self_attn.o_proj.weight"))
                return layer == removedLayer || col / (groups * hd) == removedGroup;
            if (name.EndsWith("mlp.down_proj.weight"))
                return layer == removedLayer || removedChannels.Contains(col);
            return false;
        }
        var zeroed = source.Tensors.Values.Select(v => v.Rank == 2 && (v.Name.EndsWith("o_proj.weight") || v.Name.EndsWith("down_proj.weight"))
            ? TensorData.Generate(v.Name, v.Shape, v.DType, (start, span) =>
            {
                var row = new float[v.RowLength];
                for (int e = 0; e < span.Length; e++)
                {
                    long i = start + e; int r = (int)(i / v.RowLength), col = (int)(i % v.RowLength);
                    v.RowToFloat(r, row);
                    span[e] = ZeroColumn(v.Name, col) ? 0 : row[col];
                }
            })
            : TensorData.FromView(v)).ToList();
        CheckpointWriter.Save(dir.Path("zeroed"), (System.Text.Json.Nodes.JsonObject)c.Raw.DeepClone(), zeroed);

        var plan = new PruningPlan
        {
            Method = PruningMethod.L1, Ratio = 0,
            KeptKvHeads = Enumerable.Repeat(new[] { 0, 2, 3 }, 8).ToArray(),
            KeptChannels = Enumerable.Repeat(Enumerable.Range(0, 704).Where(j => !removedChannels.Contains(j)).ToArray(), 8).ToArray(),
            RemovedLayers = [removedLayer],
        };
        var result = PrunedCheckpointWriter.Save(source, plan, dir.Path("pruned"));
        Assert.Equal(7, result.Layers);

        var config = TestFiles.ReadConfig(dir.Path("pruned"));
        Assert.Equal(6, (int)config["num_attention_heads"]!);
        Assert.Equal(3, (int)config["num_key_value_heads"]!);
        Assert.Equal(32, (int)config["head_dim"]!);
        Assert.Equal(704 - removedChannels.Count, (int)config["intermediate_size"]!);
        Assert.Equal(7, (int)config["num_hidden_layers"]!);
        Assert.True(File.Exists(dir.Path("pruned", "tokenizer.json")));
        // Parameters by hand: per kept layer q,o 192×256 each, k,v 96×256 each, MLP 3×563×256, 2 norms of 256; embeddings, head, final norm.
        long perLayer = 2 * 192 * 256 + 2 * 96 * 256 + 3L * (704 - removedChannels.Count) * 256 + 2 * 256;
        Assert.Equal(7 * perLayer + 2L * 8192 * 256 + 256, result.ParametersAfter);

        int[] ids = [0, 417, 93, 2051, 7, 88, 1200, 5, 640, 3333, 12, 901];
        using var full = CausalLM.Load(dir.Path("zeroed"));
        using var pruned = CausalLM.Load(dir.Path("pruned"));
        var expected = full.ForwardAll(full.NewCache(), ids);
        var actual = pruned.ForwardAll(pruned.NewCache(), ids);
        Assert.True(Expected.MaxAbsDiff(expected, actual) < 2e-3, $"max |Δlogit| = {Expected.MaxAbsDiff(expected, actual)}");
    }

    [Fact]
    public void SliceKeepsStoredBitsOfSelectedRowsAndColumns()
    {
        using var source = Checkpoint.Open(TestFiles.Trained);
        var w = source["model.layers.2.mlp.down_proj.weight"]; // [256, 704] FP16
        int[] rows = [3, 0, 255], cols = [700, 1, 2, 350];
        var data = PrunedCheckpointWriter.Slice(w, "x", rows, cols);
        using var ms = new MemoryStream();
        data.WriteTo(ms);
        var bytes = ms.ToArray();
        for (int r = 0; r < rows.Length; r++)
            for (int k = 0; k < cols.Length; k++)
                Assert.Equal(w.RowBytes(rows[r]).Slice(cols[k] * 2, 2).ToArray(), bytes.AsSpan((r * cols.Length + k) * 2, 2).ToArray());
    }
}
