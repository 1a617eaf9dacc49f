namespace EdgeLlm.Tokenization;

/// <summary>
/// GPT-2's reversible byte to printable-character mapping, used by byte-level BPE vocabularies
/// (e.g. the space byte 0x20 is stored as 'Ġ').
/// </summary>
internal static class ByteLevelAlphabet
{
    public static readonly char[] ByteToChar = Build();

    /// <summary>Index by char; -1 for chars outside the alphabet.</summary>
    public static readonly short[] CharToByte = Invert(ByteToChar);

    private static char[] Build()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    private static short[] Invert(char[] map)
    {
        var inverse = new short[512];
        Array.Fill(inverse, (short)-1);
        for (var b = 0; b < 256; b++) inverse[map[b]] = (short)b;
        return inverse;
    }

    public static string ToByteLevel(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (dst, src) =>
        {
            for (var i = 0; i < src.Length; i++) dst[i] = ByteToChar[src[i]];
        });
    }

    public static void ToByteLevel(ReadOnlySpan<byte> bytes, Span<char> destination)
    {
        for (var i = 0; i < bytes.Length; i++) destination[i] = ByteToChar[bytes[i]];
    }

    /// <summary>Bytes of a vocabulary string; characters outside the alphabet are taken as their UTF-8.</summary>
    public static byte[] ToBytes(string token)
    {
        var result = new List<byte>(token.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in token.EnumerateRunes())
        {
            if (rune.Value < CharToByte.Length && CharToByte[rune.Value] >= 0)
            {
                result.Add((byte)CharToByte[rune.Value]);
            }
            else
            {
                var n = rune.EncodeToUtf8(utf8);
                for (var i = 0; i < n; i++) result.Add(utf8[i]);
            }
        }
        return result.ToArray();
    }

    /// <summary>True when every character of the string is in the byte-level alphabet.</summary>
    public static bool IsByteLevel(string token)
    {
        foreach (var c in token)
            if (c >= CharToByte.Length || CharToByte[c] < 0) return false;
        return true;
    }
}
