using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace EdgeLlm.Inference.Kernels;

/// <summary>
/// The engine's parallel loop: one dedicated thread per core besides the caller, which spin briefly
/// between loops and then sleep. A decode step is a dozen or more short loops (a few hundred
/// microseconds each); waking thread-pool workers for every one cost more than the work on 16 cores
/// (docs/performance.md: 4-layer Phi-2 decode at 16 threads, 50 ms a step through Parallel.For, 7 ms
/// through a spinning team). Iterations are claimed one at a time, so a late or descheduled thread
/// delays nothing: the others take its share. A loop that finds the team busy (another thread's loop,
/// or a loop inside a loop) runs through <see cref="Parallel.For(int, int, Action{int})"/> instead.
/// </summary>
internal static class WorkerTeam
{
    /// <summary>How long an idle worker keeps polling for the next loop before it sleeps.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000;

    private static readonly object Gate = new();
    private static readonly Lazy<int> Workers = new(StartWorkers);
    private static Job? current;
    private static int generation, sleepers, busy;

    /// <summary>Runs body(i) for i in [from, to) on the team and the calling thread; exceptions reach the caller after every claimed iteration has finished.</summary>
    public static void For(int from, int to, Action<int> body)
    {
        if (to - from <= 1 || Workers.Value == 0) { for (int i = from; i < to; i++) body(i); return; }
        if (Interlocked.CompareExchange(ref busy, 1, 0) != 0) { ParallelFallback(from, to, body); return; }
        try
        {
            var job = new Job(from, to, body);
            Volatile.Write(ref current, job);
            Interlocked.Increment(ref generation);
            if (Volatile.Read(ref sleepers) > 0) lock (Gate) Monitor.PulseAll(Gate);
            job.Work();
            job.WaitUntilDone();
            job.Failure?.Throw();
        }
        finally { Volatile.Write(ref busy, 0); }
    }

    /// <summary>
    /// The team is busy (another thread's loop, or a nested one): Parallel.For, with its failure rethrown as the team
    /// throws it (the iteration's own exception, not an AggregateException), so callers see one behaviour.
    /// </summary>
    private static void ParallelFallback(int from, int to, Action<int> body)
    {
        try { Parallel.For(from, to, body); }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    private static int StartWorkers()
    {
        int count = Environment.ProcessorCount - 1;
        for (int i = 0; i < count; i++)
            new Thread(WorkerLoop) { IsBackground = true, Name = $"EdgeLlm worker {i + 1}" }.Start();
        return count;
    }

    private static void WorkerLoop()
    {
        int seen = Volatile.Read(ref generation);
        while (true)
        {
            seen = WaitForLoop(seen);
            Volatile.Read(ref current)?.Work();
        }
    }

    /// <summary>Polls for a generation other than <paramref name="seen"/>, then sleeps on the gate until one is published.</summary>
    private static int WaitForLoop(int seen)
    {
        long start = Stopwatch.GetTimestamp();
        var spinner = new SpinWait();
        int g;
        while ((g = Volatile.Read(ref generation)) == seen)
        {
            if (Stopwatch.GetTimestamp() - start < SpinTicks) { spinner.SpinOnce(sleep1Threshold: -1); continue; }
            Interlocked.Increment(ref sleepers);
            lock (Gate)
                while (Volatile.Read(ref generation) == seen) Monitor.Wait(Gate);
            Interlocked.Decrement(ref sleepers);
        }
        return g;
    }

    private sealed class Job(int from, int to, Action<int> body)
    {
        private int next = from, done;
        private volatile bool failed;
        public ExceptionDispatchInfo? Failure { get; private set; }

        /// <summary>Claims and runs iterations until none is left; after a failure the rest are claimed and skipped.</summary>
        public void Work()
        {
            int i;
            while ((i = Interlocked.Increment(ref next) - 1) < to)
            {
                try { if (!failed) body(i); }
                catch (Exception e)
                {
                    lock (this) Failure ??= ExceptionDispatchInfo.Capture(e);
                    failed = true;
                }
                finally { Interlocked.Increment(ref done); }
            }
        }

        public void WaitUntilDone()
        {
            var spinner = new SpinWait();
            while (Volatile.Read(ref done) < to - from) spinner.SpinOnce(sleep1Threshold: -1);
        }
    }
}
