using System.Buffers;
using System.Text;

namespace EdgeLlm.Inference;

/// <summary>
/// <see cref="IIncrementalText"/> for a detokenizer that decodes the concatenation of its tokens' bytes as UTF-8 (invalid
/// or incomplete sequences become U+FFFD, as <see cref="Encoding.UTF8"/> does): EdgeLlm's byte-level tokenizers. Each append
/// decodes only the new bytes; a trailing incomplete character stays pending (read as U+FFFD) until its bytes arrive.
/// </summary>
public sealed class Utf8TokenText(Func<int, ReadOnlyMemory<byte>> tokenBytes) : IIncrementalText
{
    private readonly StringBuilder committed = new();
    private byte[] pending = new byte[16];
    private int pendingLength;

    public int StableLength => committed.Length;

    public void Append(int token)
    {
        var bytes = tokenBytes(token).Span;
        if (pendingLength + bytes.Length > pending.Length) Array.Resize(ref pending, Math.Max(pending.Length * 2, pendingLength + bytes.Length));
        bytes.CopyTo(pending.AsSpan(pendingLength));
        pendingLength += bytes.Length;
        int used = 0;
        Span<char> chars = stackalloc char[2];
        while (used < pendingLength)
        {
            var status = Rune.DecodeFromUtf8(pending.AsSpan(used, pendingLength - used), out var rune, out int consumed);
            if (status == OperationStatus.NeedMoreData) break;
            // InvalidData gives U+FFFD for the maximal invalid subsequence, as Encoding.UTF8.GetString does.
            int written = rune.EncodeToUtf16(chars);
            committed.Append(chars[..written]);
            used += consumed;
        }
        pending.AsSpan(used, pendingLength - used).CopyTo(pending);
        pendingLength -= used;
    }

    public string TextFrom(int start)
    {
        var tail = pendingLength == 0 ? "" : Encoding.UTF8.GetString(pending, 0, pendingLength);
        if (start >= committed.Length) return tail[(start - committed.Length)..];
        return committed.ToString(start, committed.Length - start) + tail;
    }
}
