// Decode-step dispatch experiment (docs/performance.md, "What the team changed"): the 13 matrix-vector
// products of a 4-layer Phi-2 decode step over F16 weights in anonymous memory, run through
// Parallel.For over 64-row tasks, through a spinning team with a static split, and through the same team
// claiming 32-row chunks. Usage: decode_dispatch THREADS [serial]  ("serial" first-touches the weights
// from one thread). The kernel is a copy of the engine's, so the comparison is of dispatch alone.
#:property AllowUnsafeBlocks=true
#:property PublishAot=false
#:property PublishTrimmed=true
#:property SelfContained=true
#:property PublishSingleFile=true
#:property EnableCompressionInSingleFile=true
#:property InvariantGlobalization=true
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

unsafe
{
    int P = int.Parse(args[0]);
    bool serialInit = args.Length > 1 && args[1] == "serial";
    int d = 2560, f = 10240, vocab = 51200;
    var shapes = new List<(int n, int k)>();
    for (int l = 0; l < 4; l++) { shapes.Add((3 * d + f, d)); shapes.Add((d, d)); shapes.Add((d, f)); }
    shapes.Add((vocab, d));
    long total = shapes.Sum(s => (long)s.n * s.k * 2);
    var w = (byte*)NativeMemory.AlignedAlloc((nuint)total, 4096);
    long chunkInit = 1 << 24;
    if (serialInit) for (long o = 0; o < total; o += 8) *(long*)(w + o) = 0x1C001C001C001C00;
    else Parallel.For(0, (total + chunkInit - 1) / chunkInit, c => { for (long o = c * chunkInit; o < Math.Min(total, (c + 1) * chunkInit); o += 8) *(long*)(w + o) = 0x1C001C001C001C00; });
    var xs = (float*)NativeMemory.AlignedAlloc((nuint)f * 4, 64);
    var y = (float*)NativeMemory.AlignedAlloc((nuint)vocab * 4, 64);
    for (int i = 0; i < f; i++) xs[i] = 1e30f;

    // probe: P threads each read a contiguous slice of a 1 GiB buffer
    long pb = 1L << 30;
    var probe = (byte*)NativeMemory.AlignedAlloc((nuint)pb, 4096);
    Parallel.For(0, P, t => NativeMemory.Fill(probe + t * (pb / P), (nuint)(pb / P), 1));
    double Probe()
    {
        var sw = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, P).Select(t => new Thread(() => {
            Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default; byte* p = probe + t * (pb / P), end = p + pb / P;
            for (; p < end; p += 256) { a0 += Vector512.Load((int*)p); a1 += Vector512.Load((int*)(p + 64)); a2 += Vector512.Load((int*)(p + 128)); a3 += Vector512.Load((int*)(p + 192)); }
            if ((a0 + a1 + a2 + a3)[0] == 42) Console.Write("");
        })).ToList();
        threads.ForEach(t => t.Start()); threads.ForEach(t => t.Join());
        return pb / sw.Elapsed.TotalSeconds / 1e9;
    }
    var po = new ParallelOptions { MaxDegreeOfParallelism = P };
    void StepParallelFor()
    {
        long off = 0;
        foreach (var (n, k) in shapes)
        {
            int rpt = Math.Max(64, n / (P * 4) + 1); int tasks = (n + rpt - 1) / rpt; byte* wb = w + off;
            Parallel.For(0, tasks, po, t => Gemv(xs, k, wb + (long)t * rpt * k * 2, (long)k * 2, Math.Min(n, (t + 1) * rpt) - t * rpt, y + t * rpt));
            off += (long)n * k * 2;
        }
    }
    using var team = new Team(P);
    void StepTeam(bool dynamic)
    {
        long off = 0;
        foreach (var (n, k) in shapes)
        {
            byte* wb = w + off; int kk = k;
            if (dynamic)
            {
                int next = 0; const int chunk = 32;
                team.Run(_ => { int r; while ((r = Interlocked.Add(ref next, chunk) - chunk) < n) Gemv(xs, kk, wb + (long)r * kk * 2, (long)kk * 2, Math.Min(chunk, n - r), y + r); });
            }
            else
                team.Run(t => { int r0 = (int)((long)n * t / P), r1 = (int)((long)n * (t + 1) / P); Gemv(xs, kk, wb + (long)r0 * kk * 2, (long)kk * 2, r1 - r0, y + r0); });
            off += (long)n * k * 2;
        }
    }
    foreach (var (name, step) in new (string, Action)[] { ("parallel-for", StepParallelFor), ("team-static", () => StepTeam(false)), ("team-dynamic", () => StepTeam(true)) })
    {
        for (int i = 0; i < 3; i++) step();
        var times = new List<double>();
        for (int rep = 0; rep < 21; rep++) { var sw = Stopwatch.StartNew(); step(); times.Add(sw.Elapsed.TotalMilliseconds); }
        times.Sort();
        double bw = Probe();
        Console.WriteLine($"P={P} {(serialInit ? "serial-init" : "parallel-init")} {name,-13} step median {times[10]:F2} ms best {times[0]:F2} ms = {total / times[10] / 1e6:F1} GB/s; probe {bw:F1} GB/s; ratio {times[10] / (total / bw / 1e6):F2}");
    }
}

static unsafe void Gemv(float* x, int k, byte* w, long rowBytes, int rows, float* y)
{
    for (int r = 0; r < rows; r++)
    {
        byte* row = w + r * rowBytes;
        Vector512<float> a0 = default, a1 = default;
        for (int i = 0; i < k; i += 32)
        {
            Sse.Prefetch0(row + 2 * i + 4096);
            a0 = Avx512F.FusedMultiplyAdd(Load16(row, i), Vector512.Load(x + i), a0);
            a1 = Avx512F.FusedMultiplyAdd(Load16(row, i + 16), Vector512.Load(x + i + 16), a1);
        }
        y[r] = Vector512.Sum(a0 + a1);
    }
}
[MethodImpl(MethodImplOptions.AggressiveInlining)]
static unsafe Vector512<float> Load16(byte* row, int index) =>
    Avx512F.And(Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)row + index)), 13), Vector512.Create(unchecked((int)0x8FFFFFFF))).AsSingle();

/// <summary>P-1 dedicated threads that spin briefly for work, then the caller joins as member 0.</summary>
sealed class Team : IDisposable
{
    private readonly int size; private Action<int>? work; private int generation, pending; private volatile bool stop;
    private readonly Thread[] threads;
    public Team(int size)
    {
        this.size = size;
        threads = Enumerable.Range(1, size - 1).Select(i => new Thread(() => Loop(i)) { IsBackground = true }).ToArray();
        foreach (var t in threads) t.Start();
    }
    private void Loop(int id)
    {
        int seen = 0;
        while (!stop)
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref generation) == seen && !stop) { if (spin.Count > 2000) Thread.Yield(); else spin.SpinOnce(-1); }
            if (stop) return;
            seen = Volatile.Read(ref generation);
            work!(id);
            Interlocked.Decrement(ref pending);
        }
    }
    public void Run(Action<int> body)
    {
        work = body; pending = size - 1;
        Interlocked.Increment(ref generation);
        body(0);
        var spin = new SpinWait();
        while (Volatile.Read(ref pending) != 0) spin.SpinOnce(-1);
    }
    public void Dispose() { stop = true; }
}
