using System.Text;
using System.Text.Json;

namespace EdgeLlm.Checkpoints;

/// <summary>Writes <c>.safetensors</c> files to a temporary name and moves them into place when complete.</summary>
public static class SafeTensorsWriter
{
    public static void Write(string path, IReadOnlyList<TensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors, metadata, null);

    /// <summary>As <see cref="Write(string, IReadOnlyList{TensorData}, IReadOnlyDictionary{string, string}?)"/>, calling
    /// <paramref name="wrote"/> with each tensor's bytes once they are written.</summary>
    internal static void Write(string path, IReadOnlyList<TensorData> tensors, IReadOnlyDictionary<string, string>? metadata, Action<long>? wrote)
    {
        var header = BuildHeader(tensors, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BitConverter.TryWriteBytes(len, (ulong)header.Length);
            stream.Write(len);
            stream.Write(header);
            foreach (var t in tensors)
            {
                long before = stream.Position;
                t.WriteTo(stream);
                if (stream.Position - before != t.ByteLength)
                    throw new InvalidOperationException($"Tensor '{t.Name}' wrote {stream.Position - before} bytes, expected {t.ByteLength}.");
                wrote?.Invoke(t.ByteLength);
            }
        });
    }

    /// <summary>The JSON header, padded with spaces to a multiple of 8 bytes as the reference writer does.</summary>
    private static byte[] BuildHeader(IReadOnlyList<TensorData> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var t in tensors)
            {
                if (!seen.Add(t.Name)) throw new ArgumentException($"Tensor '{t.Name}' is written twice.");
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType.ToSafetensorsName());
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + t.ByteLength);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += t.ByteLength;
            }
            w.WriteEndObject();
        }
        var json = ms.ToArray();
        int padded = (json.Length + 7) / 8 * 8;
        var header = new byte[padded];
        json.CopyTo(header, 0);
        header.AsSpan(json.Length).Fill((byte)' ');
        return header;
    }
}
