using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace EdgeLlm.Cli.Commands;

/// <summary>
/// Progress of a long command on stderr (stdout stays clean for --json), fed by the library's IProgress&lt;T&gt;:
/// on a terminal a Spectre.Console bar per task with count, rate and time left; when stderr is redirected one plain
/// line per task every few seconds (and when it finishes). Thread-safe: reports may come from worker threads.
/// </summary>
internal sealed class ProgressPrinter : IDisposable
{
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(3);

    private sealed class Item(string label, string unit)
    {
        public readonly string Label = label, Unit = unit;
        public long Done, Total;
        /// <summary>Done at the label's first report: the rate counts only what finished after it (a first batch, or samples resumed from disk, took no measured time).</summary>
        public long FirstDone = -1;
        public readonly Stopwatch Clock = Stopwatch.StartNew();
        public TimeSpan? LastPrinted;
        public ProgressTask? Bar;
    }

    private readonly Lock gate = new();
    private readonly Dictionary<string, Item> items = [];
    private readonly TextWriter? plain;
    private readonly bool quiet;
    private readonly Task? live;
    private readonly CancellationTokenSource stop = new();
    private ProgressContext? context;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> units = new();

    private ProgressPrinter(bool quiet, bool terminal)
    {
        this.quiet = quiet;
        if (quiet) return;
        if (!terminal) { plain = Console.Error; return; }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var started = new ManualResetEventSlim();
        live = console.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new CountColumn(units), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                lock (gate) context = ctx;
                started.Set();
                try { await Task.Delay(Timeout.Infinite, stop.Token); } catch (OperationCanceledException) { }
                lock (gate) foreach (var item in items.Values) Update(item);
                ctx.Refresh();
            });
        started.Wait();
    }

    /// <summary>A printer for this process's stderr: bars on a terminal, plain lines when redirected, nothing when quiet.</summary>
    public static ProgressPrinter Start(bool quiet = false) => new(quiet, terminal: !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Ansi);

    /// <summary>A printer that writes plain lines to <paramref name="writer"/> (what redirected stderr gets).</summary>
    internal static ProgressPrinter Plain(TextWriter writer) => new(false, terminal: false, writer);

    private ProgressPrinter(bool quiet, bool terminal, TextWriter writer) : this(quiet, terminal) => plain = writer;

    /// <summary>Progress adapted from the library's report type: a label, items done and items in all.</summary>
    public IProgress<T> For<T>(Func<T, (string Label, long Done, long Total)> read, string unit = "items") =>
        new Callback<T>(value => { var (label, done, total) = read(value); Report(label, done, total, unit); });

    /// <summary>The library's stage progress (<see cref="StageProgress"/>): one bar or line per stage, in its unit.</summary>
    public IProgress<StageProgress> Stages() => new Callback<StageProgress>(p => Report(p.Stage, p.Done, p.Total, p.Unit));

    public void Report(string label, long done, long total, string unit = "items")
    {
        if (quiet) return;
        lock (gate)
        {
            if (!items.TryGetValue(label, out var item)) items[label] = item = new Item(label, unit);
            if (item.FirstDone < 0) item.FirstDone = done;
            item.Done = done; item.Total = total;
            if (plain is not null)
            {
                var now = item.Clock.Elapsed;
                bool finished = total > 0 && done >= total;
                if (!finished && item.LastPrinted is { } last && now - last < PlainInterval) return;
                item.LastPrinted = now;
                plain.WriteLine(PlainLine(label, done, total, now.TotalSeconds, unit, item.FirstDone));
            }
            else Update(item);
        }
    }

    private void Update(Item item)
    {
        if (context is null) return;
        item.Bar ??= context.AddTask(Markup.Escape(item.Label), maxValue: Math.Max(1, item.Total));
        item.Bar.MaxValue = Math.Max(1, item.Total);
        item.Bar.Value = item.Done;
        units[item.Bar.Id] = item.Unit;
    }

    /// <summary>"label: done/total unit (p%), r unit/s, ETA t" — r = (done − doneAtStart) / seconds, seconds since the label's first report.</summary>
    public static string PlainLine(string label, long done, long total, double seconds, string unit = "items", long doneAtStart = 0)
    {
        var inv = CultureInfo.InvariantCulture;
        double rate = seconds > 0 ? (done - doneAtStart) / seconds : 0;
        string Amount(double v) => unit == "bytes" ? Output.Bytes((long)v) : v.ToString("0.##", inv);
        var line = total > 0
            ? $"{label}: {Amount(done)}/{Amount(total)}{(unit == "bytes" ? "" : " " + unit)} ({(100.0 * done / total).ToString("0", inv)}%)"
            : $"{label}: {Amount(done)}{(unit == "bytes" ? "" : " " + unit)}";
        if (rate > 0) line += $", {Amount(rate)}{(unit == "bytes" ? "" : " " + unit)}/s";
        if (rate > 0 && total > done) line += $", ETA {Duration((total - done) / rate)}";
        return line;
    }

    private static string Duration(double seconds) => seconds switch
    {
        < 90 => $"{seconds.ToString("0", CultureInfo.InvariantCulture)} s",
        < 5400 => $"{(seconds / 60).ToString("0.#", CultureInfo.InvariantCulture)} min",
        _ => $"{(seconds / 3600).ToString("0.#", CultureInfo.InvariantCulture)} h",
    };

    public void Dispose()
    {
        stop.Cancel();
        live?.GetAwaiter().GetResult();
    }

    private sealed class Callback<T>(Action<T> report) : IProgress<T> { public void Report(T value) => report(value); }

    /// <summary>"done/total" and the rate per second, in the task's unit.</summary>
    private sealed class CountColumn(System.Collections.Concurrent.ConcurrentDictionary<int, string> units) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            var unit = units.GetValueOrDefault(task.Id, "items");
            string Amount(double v) => unit == "bytes" ? Output.Bytes((long)v) : v.ToString("0", CultureInfo.InvariantCulture);
            var speed = task.Speed is { } s && s > 0 ? $", {Amount(s)}{(unit == "bytes" ? "" : " " + unit)}/s" : "";
            return new Text($"{Amount(task.Value)}/{Amount(task.MaxValue)}{speed}");
        }
    }
}
