using System.Text.Json;
using EdgeLlm.Evaluation.Protocols;
using EdgeLlm.Evaluation.Runs;

namespace EdgeLlm.Evaluation.Distributed;

/// <summary>One line of the worker protocol (JSON on the worker's stdout): "ready", "progress" or "done".</summary>
public sealed record WorkerMessage(string Event, string? Shard = null, string? Task = null, int Done = 0, int Total = 0)
{
    public string ToJson() => JsonSerializer.Serialize(this, RunDirectory.Json);

    public static WorkerMessage? Parse(string line)
    {
        try { return JsonSerializer.Deserialize<WorkerMessage>(line, RunDirectory.Json); }
        catch (JsonException) { return null; }
    }
}

/// <summary>
/// The loop inside a worker process of a <see cref="WorkerPool"/>: reads shards ("k/n", one per line) from
/// its input until the input ends, runs every task of the plan on each shard into its own record files
/// (the run folder's resume rules: recorded samples are skipped), and reports progress and completion as
/// <see cref="WorkerMessage"/> lines. It writes no summary; the pool computes that once at the end. With inferOnly it
/// only generates, into the folder's predictions (<see cref="EvaluationRunner.Infer"/>).
/// </summary>
public static class ShardWorker
{
    public static void Serve(RunPlan plan, IEvaluationModel model, PromptFormatter formatter, RunDirectory run, TextReader input, TextWriter output,
        CancellationToken cancellationToken = default, bool inferOnly = false)
    {
        if (run.Writer is null) throw new ArgumentException("A shard worker needs a RunDirectory with its own writer name.", nameof(run));
        var tasks = plan.CreateTasks();
        var runner = new EvaluationRunner(model, run, formatter);
        Send(output, new WorkerMessage("ready"));
        while (input.ReadLine() is { } line)
        {
            if (line.Trim().Length == 0) continue;
            var shard = Shard.Parse(line.Trim());
            foreach (var task in tasks)
            {
                var progress = new ImmediateProgress(p => Send(output, new WorkerMessage("progress", shard.ToString(), p.Task, p.Done, p.Total)));
                if (inferOnly) runner.Infer(task, plan.OptionsFor(shard), progress, cancellationToken);
                else runner.Run(task, plan.OptionsFor(shard), progress, cancellationToken);
            }
            Send(output, new WorkerMessage("done", shard.ToString()));
        }
    }

    private static void Send(TextWriter output, WorkerMessage message)
    {
        lock (output)
        {
            output.WriteLine(message.ToJson());
            output.Flush();
        }
    }

    // Progress<T> posts to the thread pool; protocol lines must leave in order, before "done".
    private sealed class ImmediateProgress(Action<EvaluationProgress> report) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value) => report(value);
    }
}
