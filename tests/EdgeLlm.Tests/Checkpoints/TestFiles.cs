using System.Text;
using System.Text.Json.Nodes;
using EdgeLlm.Checkpoints;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Checkpoints;

/// <summary>A temporary folder removed when the test ends.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => System.IO.Directory.CreateDirectory(Directory);

    public string Directory { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "edgellm-ckpt-" + Guid.NewGuid().ToString("N"));

    public string Path(params string[] parts) => System.IO.Path.Combine([Directory, .. parts]);

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Builds safetensors files byte by byte, so a test can make exactly the malformation it needs.</summary>
public static class TestFiles
{
    public static string HfTiny(string name) => SharedData.Path("fixtures", "hf-tiny", name);

    public static string Trained => SharedData.Path("fixtures", "trained", "llama-pydoc");

    /// <summary>8-byte little-endian header length, the header text (padded with spaces to 8), then the data.</summary>
    public static byte[] Raw(string headerJson, byte[] data, ulong? declaredLength = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        int padded = (header.Length + 7) / 8 * 8;
        var bytes = new byte[8 + padded + data.Length];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), declaredLength ?? (ulong)padded);
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length, padded - header.Length).Fill((byte)' ');
        data.CopyTo(bytes, 8 + padded);
        return bytes;
    }

    public static string WriteRaw(TempDir dir, string headerJson, byte[] data, string name = "model.safetensors")
    {
        var path = dir.Path(name);
        File.WriteAllBytes(path, Raw(headerJson, data));
        return path;
    }

    /// <summary>Asserts a CheckpointFormatException naming <paramref name="path"/> and containing every fragment.</summary>
    public static CheckpointFormatException AssertFormatError(Action action, string path, params string[] fragments)
    {
        var e = Assert.Throws<CheckpointFormatException>(action);
        var full = System.IO.Path.GetFullPath(path);
        Assert.Equal(full, System.IO.Path.GetFullPath(e.Path));
        Assert.Contains(full, e.Message);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
        return e;
    }

    public static JsonObject ReadConfig(string folder) =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(folder, "config.json")))!;

    public static void WriteConfig(string folder, JsonObject config) =>
        File.WriteAllText(System.IO.Path.Combine(folder, "config.json"), config.ToJsonString());

    /// <summary>Bytes of every tensor in a file or folder, by name.</summary>
    public static void AssertSameTensors(Checkpoint expected, Checkpoint actual)
    {
        Assert.Equal(expected.Tensors.Keys.Order(StringComparer.Ordinal), actual.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, a) in expected.Tensors)
        {
            var b = actual.Tensors[name];
            Assert.Equal(a.DType, b.DType);
            Assert.Equal(a.Shape, b.Shape);
            Assert.True(a.Bytes.SequenceEqual(b.Bytes), $"tensor '{name}' bytes differ after the round trip");
        }
    }
}
