using System.Numerics;

namespace EdgeLlm.Calibration;

/// <summary>
/// CPython's <c>random.Random</c>: the MT19937 generator seeded from an integer the way
/// <c>random.seed(n)</c> does it (init_by_array over the 32-bit words of |n|, least significant first),
/// with <c>getrandbits</c> and <c>randint</c> drawing exactly the numbers Python draws. The calibration
/// samplers of Wanda and SparseGPT pick C4 documents and windows with it, so the same seed selects the same text.
/// </summary>
public sealed class PythonRandom
{
    private const int N = 624, M = 397;
    private readonly uint[] mt = new uint[N];
    private int index = N + 1;

    public PythonRandom(BigInteger seed)
    {
        var magnitude = BigInteger.Abs(seed);
        var key = new List<uint>();
        while (magnitude > 0)
        {
            key.Add((uint)(magnitude & uint.MaxValue));
            magnitude >>= 32;
        }
        if (key.Count == 0) key.Add(0); // random.seed(0) still feeds one zero word
        InitByArray(key);
    }

    public PythonRandom(long seed) : this(new BigInteger(seed)) { }

    private void InitGenrand(uint s)
    {
        mt[0] = s;
        for (int i = 1; i < N; i++)
            mt[i] = 1812433253u * (mt[i - 1] ^ (mt[i - 1] >> 30)) + (uint)i;
        index = N;
    }

    private void InitByArray(List<uint> key)
    {
        InitGenrand(19650218u);
        int i = 1, j = 0;
        for (int k = Math.Max(N, key.Count); k > 0; k--)
        {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint)j;
            i++; j++;
            if (i >= N) { mt[0] = mt[N - 1]; i = 1; }
            if (j >= key.Count) j = 0;
        }
        for (int k = N - 1; k > 0; k--)
        {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941u)) - (uint)i;
            i++;
            if (i >= N) { mt[0] = mt[N - 1]; i = 1; }
        }
        mt[0] = 0x80000000u;
    }

    /// <summary>The next raw 32-bit output (CPython's <c>genrand_uint32</c>).</summary>
    public uint NextUInt32()
    {
        if (index >= N)
        {
            for (int k = 0; k < N; k++)
            {
                uint y = (mt[k] & 0x80000000u) | (mt[(k + 1) % N] & 0x7fffffffu);
                mt[k] = mt[(k + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0u);
            }
            index = 0;
        }
        uint v = mt[index++];
        v ^= v >> 11;
        v ^= (v << 7) & 0x9d2c5680u;
        v ^= (v << 15) & 0xefc60000u;
        v ^= v >> 18;
        return v;
    }

    /// <summary><c>random.getrandbits(k)</c> for 0 ≤ k ≤ 64: 32-bit words filled least significant first, the last one shifted down.</summary>
    public ulong GetRandBits(int k)
    {
        if (k < 0 || k > 64) throw new ArgumentOutOfRangeException(nameof(k), k, "GetRandBits takes 0 to 64 bits.");
        if (k == 0) return 0;
        if (k <= 32) return NextUInt32() >> (32 - k);
        ulong low = NextUInt32();
        ulong high = NextUInt32() >> (64 - k);
        return low | (high << 32);
    }

    /// <summary><c>random._randbelow(n)</c>: getrandbits(n.bit_length()) until the draw is below n.</summary>
    public long RandBelow(long n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "RandBelow needs a positive bound.");
        int k = 64 - BitOperations.LeadingZeroCount((ulong)n);
        ulong r = GetRandBits(k);
        while (r >= (ulong)n) r = GetRandBits(k);
        return (long)r;
    }

    /// <summary><c>random.randint(a, b)</c>: a + _randbelow(b − a + 1), both ends included.</summary>
    public long RandInt(long a, long b)
    {
        if (b < a) throw new ArgumentException($"RandInt: empty range [{a}, {b}].");
        return a + RandBelow(b - a + 1);
    }
}
