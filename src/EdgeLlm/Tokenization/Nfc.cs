using System.Text;

namespace EdgeLlm.Tokenization;

/// <summary>
/// Managed Unicode NFC (UAX #15: canonical decomposition, canonical ordering, canonical composition).
/// The project builds with InvariantGlobalization, where string.Normalize leaves text unchanged, so the
/// tables come from <see cref="NfcData"/> instead of ICU.
/// </summary>
internal static class Nfc
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Dictionary<int, int[]> decompositions = LoadDecompositions();
    private static readonly Dictionary<int, byte> combiningClasses = LoadCombiningClasses();
    private static readonly Dictionary<long, int> compositions = LoadCompositions();

    public static string Normalize(string text)
    {
        var cps = new List<int>(text.Length + 8);
        for (var i = 0; i < text.Length;)
        {
            var cp = CharClass.Read(text, i, out var len);
            i += len;
            Decompose(cp, cps);
        }
        Reorder(cps);
        var n = Compose(cps);

        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < n; i++)
        {
            if (cps[i] is >= 0xD800 and <= 0xDFFF) sb.Append((char)cps[i]);
            else sb.Append(char.ConvertFromUtf32(cps[i]));
        }
        return sb.ToString();
    }

    private static int Ccc(int cp) => combiningClasses.TryGetValue(cp, out var c) ? c : 0;

    private static void Decompose(int cp, List<int> output)
    {
        var s = cp - SBase;
        if (s is >= 0 and < SCount)
        {
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
        }
        else if (decompositions.TryGetValue(cp, out var d)) output.AddRange(d);
        else output.Add(cp);
    }

    // Stable sort of each run of non-starters by combining class.
    private static void Reorder(List<int> cps)
    {
        for (var i = 1; i < cps.Count; i++)
        {
            var c = Ccc(cps[i]);
            if (c == 0) continue;
            var j = i;
            var cp = cps[i];
            while (j > 0 && Ccc(cps[j - 1]) > c)
            {
                cps[j] = cps[j - 1];
                j--;
            }
            cps[j] = cp;
        }
    }

    /// <summary>Composes in place; returns the new length.</summary>
    private static int Compose(List<int> cps)
    {
        if (cps.Count == 0) return 0;
        var starterPos = 0;
        var starter = cps[0];
        var lastClass = Ccc(starter) == 0 ? 0 : 256; // a leading non-starter blocks composition
        var write = 1;
        for (var read = 1; read < cps.Count; read++)
        {
            var ch = cps[read];
            var chClass = Ccc(ch);
            var composite = ComposePair(starter, ch);
            if (composite >= 0 && (lastClass < chClass || lastClass == 0))
            {
                cps[starterPos] = composite;
                starter = composite;
                continue;
            }
            if (chClass == 0)
            {
                starterPos = write;
                starter = ch;
            }
            lastClass = chClass;
            cps[write++] = ch;
        }
        return write;
    }

    private static int ComposePair(int first, int second)
    {
        var l = first - LBase;
        if (l is >= 0 and < LCount)
        {
            var v = second - VBase;
            return v is >= 0 and < VCount ? SBase + (l * VCount + v) * TCount : -1;
        }
        var s = first - SBase;
        if (s is >= 0 and < SCount && s % TCount == 0)
        {
            var t = second - TBase;
            return t is > 0 and < TCount ? first + t : -1;
        }
        return compositions.TryGetValue(((long)first << 32) | (uint)second, out var c) ? c : -1;
    }

    private static Dictionary<int, int[]> LoadDecompositions()
    {
        var data = NfcData.Decompositions;
        var map = new Dictionary<int, int[]>();
        for (var i = 0; i < data.Length;)
        {
            var n = data[i + 1];
            map[data[i]] = data.Slice(i + 2, n).ToArray();
            i += 2 + n;
        }
        return map;
    }

    private static Dictionary<int, byte> LoadCombiningClasses()
    {
        var data = NfcData.CombiningClasses;
        var map = new Dictionary<int, byte>(data.Length / 2);
        for (var i = 0; i < data.Length; i += 2) map[data[i]] = (byte)data[i + 1];
        return map;
    }

    private static Dictionary<long, int> LoadCompositions()
    {
        var data = NfcData.Compositions;
        var map = new Dictionary<long, int>(data.Length / 3);
        for (var i = 0; i < data.Length; i += 3) map[((long)data[i] << 32) | (uint)data[i + 1]] = data[i + 2];
        return map;
    }
}
