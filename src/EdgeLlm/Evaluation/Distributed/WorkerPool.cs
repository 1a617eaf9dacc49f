using System.Diagnostics;
using EdgeLlm.Evaluation.Runs;

namespace EdgeLlm.Evaluation.Distributed;

/// <summary>A worker slot: its number (1-based), the record-writer name its process uses, and the device it is given (null: CPU).</summary>
public sealed record WorkerSlot(int Number, string Writer, string? Device);

/// <summary>
/// Progress of a worker pool, merged over all workers: Task/Done/Total count the whole run's samples of a
/// task (recorded before plus finished since); Note, when set, says what happened to a worker process.
/// </summary>
public sealed record WorkerPoolProgress(string? Task, int Done, int Total, int Worker, int ProcessId, string? Note = null);

/// <summary>How many worker processes and on which devices: one slot per device when devices are given.</summary>
public sealed record WorkerPoolOptions(int Workers, IReadOnlyList<string>? Devices = null, int ShardsPerWorker = 4)
{
    public IReadOnlyList<WorkerSlot> Slots()
    {
        if (Devices is { Count: > 0 } devices)
            return devices.Select((d, i) => new WorkerSlot(i + 1, $"worker-{i + 1}", d)).ToList();
        if (Workers < 1) throw new ArgumentException($"--workers must be at least 1 (got {Workers}).");
        return Enumerable.Range(1, Workers).Select(i => new WorkerSlot(i, $"worker-{i}", null)).ToList();
    }
}

/// <summary>
/// Runs a plan with one worker process per slot on this machine. The samples are cut into several shards
/// per worker; each worker takes the next shard when it finishes one and appends to its own record files
/// in the shared run folder (resume rules of a single run: recorded samples are skipped). A worker that
/// dies is restarted once and the shard it held goes back to the queue for whichever worker is free;
/// after all shards are done the summary is computed once from all records (<see cref="RunMerger"/>).
/// </summary>
public static class WorkerPool
{
    /// <summary>Runs the plan's samples in the run folder with the options' worker slots and returns the merged run.</summary>
    /// <remarks>launch: the process for a slot (e.g. <c>edgellm eval-worker RUN_DIR --writer W</c>); the pool redirects its
    /// standard streams and sets CUDA_VISIBLE_DEVICES and EDGELLM_DEVICE to the slot's device.</remarks>
    /// <remarks>inferOnly: the workers only generate (launch them with --infer); the result then holds the coverage of records and
    /// predictions and no summary (score with <c>eval --mode eval</c>).</remarks>
    public static MergeResult Run(RunPlan plan, string runDir, WorkerPoolOptions options, Func<WorkerSlot, ProcessStartInfo> launch,
        IProgress<WorkerPoolProgress>? progress = null, CancellationToken cancellationToken = default, bool inferOnly = false)
    {
        var slots = options.Slots();
        plan = plan.Normalized() with { Shards = Math.Max(1, slots.Count * Math.Max(1, options.ShardsPerWorker)) };
        runDir = Path.GetFullPath(runDir);
        var run = new RunDirectory(runDir);
        // Worker names repeat across invocations: two pools on one folder would share record files.
        using var claim = Claim(runDir);
        plan.SaveTo(runDir);
        var tasks = plan.CreateTasks();
        var tally = new Tally(plan, tasks, run, inferOnly);
        var queue = new ShardQueue(RunMerger.Check(plan, tasks, run, inferOnly).Gaps.Select(g => Shard.Parse(g.Shard)));
        var workers = slots.Select(s => new Worker(s, launch, queue, tally, progress, cancellationToken)).ToList();
        using (cancellationToken.Register(() => workers.ForEach(w => w.Kill())))
        {
            var loops = workers.Select(w => Task.Factory.StartNew(w.Loop, TaskCreationOptions.LongRunning)).ToArray();
            Task.WaitAll(loops);
        }
        cancellationToken.ThrowIfCancellationRequested();
        var result = inferOnly ? new MergeResult(RunMerger.Check(plan, tasks, run, predictionsCount: true), null, []) : RunMerger.Merge(runDir);
        if (!result.Complete)
            throw new InvalidOperationException($"{runDir}: every worker stopped with {result.Coverage.MissingSamples} samples missing " +
                $"(shards {string.Join(", ", result.Coverage.Gaps.Select(g => g.Shard))}); see the workers' errors above. Rerun to resume.");
        return result;
    }

    private static FileStream Claim(string runDir)
    {
        var path = Path.Combine(runDir, "workers.lock");
        try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException e) { throw new IOException($"{path}: another eval --workers is running on this folder ({e.Message}).", e); }
    }

    /// <summary>Shards waiting and in flight; a worker waits while others hold shards that may come back.</summary>
    private sealed class ShardQueue(IEnumerable<Shard> shards)
    {
        private readonly LinkedList<Shard> waiting = new(shards);
        private int inFlight;

        public Shard? Take()
        {
            lock (waiting)
            {
                while (true)
                {
                    if (waiting.First is { } first)
                    {
                        waiting.RemoveFirst();
                        inFlight++;
                        return first.Value;
                    }
                    if (inFlight == 0) return null;
                    Monitor.Wait(waiting);
                }
            }
        }

        public void Finish(Shard shard) => Release(shard, requeue: false);

        public void GiveBack(Shard shard) => Release(shard, requeue: true);

        private void Release(Shard shard, bool requeue)
        {
            lock (waiting)
            {
                inFlight--;
                if (requeue) waiting.AddFirst(shard);
                Monitor.PulseAll(waiting);
            }
        }
    }

    /// <summary>Done counts per task: recorded at the start plus each (shard, task)'s progress past what was counted.</summary>
    private sealed class Tally
    {
        private readonly Dictionary<string, int> done = new(), total = new();
        private readonly Dictionary<(string Shard, string Task), int> counted = new();

        public Tally(RunPlan plan, IReadOnlyList<IEvaluationTask> tasks, RunDirectory run, bool predictionsCount)
        {
            foreach (var task in tasks)
            {
                var recorded = run.DoneIds(task.Name, predictionsCount);
                var selected = EvaluationRunner.Select(task.LoadSamples(), new RunOptions(plan.Limit));
                total[task.Name] = selected.Count;
                done[task.Name] = 0;
                foreach (var (index, sample) in selected)
                {
                    if (!recorded.Contains(sample.Id)) continue;
                    done[task.Name]++;
                    var key = (new Shard(index % plan.Shards + 1, plan.Shards).ToString(), task.Name);
                    counted[key] = counted.GetValueOrDefault(key) + 1;
                }
            }
        }

        public (int Done, int Total) Report(string shard, string task, int shardDone)
        {
            lock (done)
            {
                int before = counted.GetValueOrDefault((shard, task));
                if (shardDone > before)
                {
                    done[task] += shardDone - before;
                    counted[(shard, task)] = shardDone;
                }
                return (done[task], total[task]);
            }
        }
    }

    private sealed class Worker(WorkerSlot slot, Func<WorkerSlot, ProcessStartInfo> launch, ShardQueue queue, Tally tally,
        IProgress<WorkerPoolProgress>? progress, CancellationToken cancellationToken)
    {
        private const int MaxStarts = 2; // the first start and one restart
        private readonly Queue<string> errors = new();
        private Process? process;
        private int starts;

        public void Loop()
        {
            try
            {
                while (true)
                {
                    if (cancellationToken.IsCancellationRequested || (process is null && !Start())) return;
                    var shard = queue.Take();
                    if (shard is null) return;
                    if (RunShard(shard)) queue.Finish(shard);
                    else
                    {
                        queue.GiveBack(shard);
                        Died($"shard {shard} goes back to the queue");
                    }
                }
            }
            finally { Stop(); }
        }

        public void Kill()
        {
            try { process?.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }

        // Starts the process and waits for "ready"; false once the slot has used its restart.
        private bool Start()
        {
            while (starts < MaxStarts && !cancellationToken.IsCancellationRequested)
            {
                starts++;
                var psi = launch(slot);
                psi.RedirectStandardInput = psi.RedirectStandardOutput = psi.RedirectStandardError = true;
                psi.UseShellExecute = false;
                if (slot.Device is { } device)
                {
                    psi.Environment["CUDA_VISIBLE_DEVICES"] = device;
                    psi.Environment["EDGELLM_DEVICE"] = device;
                }
                process = Process.Start(psi) ?? throw new InvalidOperationException($"worker {slot.Number}: {psi.FileName} did not start");
                process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lock (errors) { errors.Enqueue(line); if (errors.Count > 20) errors.Dequeue(); } };
                process.BeginErrorReadLine();
                Note(starts == 1 ? "started" : "restarted");
                while (process.StandardOutput.ReadLine() is { } line)
                    if (WorkerMessage.Parse(line)?.Event == "ready") return true;
                Died("before it was ready");
            }
            return false;
        }

        // Sends one shard and follows its messages; false when the process ended before "done".
        private bool RunShard(Shard shard)
        {
            var p = process!;
            try
            {
                p.StandardInput.WriteLine(shard.ToString());
                p.StandardInput.Flush();
            }
            catch (IOException) { return false; }
            while (p.StandardOutput.ReadLine() is { } line)
            {
                var message = WorkerMessage.Parse(line);
                if (message is null) continue;
                if (message.Event == "done" && message.Shard == shard.ToString()) return true;
                if (message.Event == "progress" && message.Task is { } task)
                {
                    var (done, total) = tally.Report(shard.ToString(), task, message.Done);
                    progress?.Report(new WorkerPoolProgress(task, done, total, slot.Number, p.Id));
                }
            }
            return false;
        }

        private void Died(string what)
        {
            var p = process!;
            p.WaitForExit();
            string last;
            lock (errors) last = errors.Count > 0 ? ": " + errors.Last() : "";
            string next = starts < MaxStarts ? "restarting it" : "not restarting it again";
            Note($"exited with code {p.ExitCode} {what}{last}; {next}");
            p.Dispose();
            process = null;
        }

        private void Stop()
        {
            if (process is not { } p) return;
            try { p.StandardInput.Close(); } catch (IOException) { }
            if (!p.WaitForExit(TimeSpan.FromSeconds(30))) Kill();
            p.WaitForExit();
            p.Dispose();
            process = null;
        }

        private void Note(string note) =>
            progress?.Report(new WorkerPoolProgress(null, 0, 0, slot.Number, process?.Id ?? 0, $"worker {slot.Number} (pid {process?.Id}): {note}"));
    }
}
