using System.Text.Json;
using EdgeLlm.Evaluation.Protocols;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Evaluation.Workflows;

namespace EdgeLlm.Evaluation.Distributed;

/// <summary>
/// What a run split across processes covers, saved as RUN_DIR/plan.json by whoever splits it (a Slurm
/// array script, a worker pool) so that every process, and <c>eval merge</c> later, agree on the samples:
/// the model, the protocol and chat template, the tasks and their data, the limit, and into how many shards the
/// samples are cut. MaxBatch (null: each process chooses from its own memory) only sets speed.
/// </summary>
/// <remarks>Paths are stored absolute: array tasks run on other machines, from other folders.</remarks>
public sealed record RunPlan(string Model, IReadOnlyList<string> Tasks, string Datasets, int? Limit, int Shards,
    int? MaxBatch = null, int MaxSeqLen = 2048, string Protocol = "edge-llm-2024", string? ChatTemplateFile = null)
{
    public const string FileName = "plan.json";

    /// <summary>The plan of <paramref name="request"/> (its protocol's default tasks when it names none) cut into <paramref name="shards"/>.</summary>
    public static RunPlan Of(EvaluationRequest request, int shards) =>
        new RunPlan(request.ModelFolder, request.TaskNames, request.DatasetsFolder, request.Limit, shards, request.MaxBatch,
            request.MaxSeqLen, request.Protocol.Name, request.ChatTemplateFile).Normalized();

    /// <summary>The request that evaluates shard <paramref name="shard"/> of this plan into <paramref name="runDir"/>.</summary>
    public EvaluationRequest RequestFor(string runDir, Shard shard) => new()
    {
        ModelFolder = Model, RunFolder = runDir, DatasetsFolder = Datasets, Protocol = EvaluationProtocols.Get(Protocol),
        Tasks = Tasks, ChatTemplateFile = ChatTemplateFile, Limit = Limit, Shard = shard, MaxBatch = MaxBatch, MaxSeqLen = MaxSeqLen,
    };

    /// <summary>The plan with its paths made absolute and its values checked.</summary>
    public RunPlan Normalized()
    {
        if (Tasks.Count == 0) throw new ArgumentException("A run plan needs at least one task.");
        if (Shards < 1) throw new ArgumentException($"A run needs at least one shard (got {Shards}).");
        if (Limit is < 0) throw new ArgumentException($"--limit must not be negative (got {Limit}).");
        if (MaxBatch is < 1) throw new ArgumentException($"--max-batch must be at least 1 (got {MaxBatch}).");
        foreach (var t in Tasks)
            if (!TaskCatalog.Names.Contains(t)) throw new ArgumentException($"Unknown task '{t}'; known: {string.Join(", ", TaskCatalog.Names)}.");
        EvaluationProtocols.Get(Protocol); // an unknown protocol is refused here, not on a compute node
        return this with
        {
            Model = Path.GetFullPath(Model), Datasets = Path.GetFullPath(Datasets), Tasks = Tasks.ToList(),
            ChatTemplateFile = ChatTemplateFile is null ? null : Path.GetFullPath(ChatTemplateFile),
        };
    }

    public IReadOnlyList<IEvaluationTask> CreateTasks() => Tasks.Select(t => TaskCatalog.Create(t, Datasets, EvaluationProtocols.Get(Protocol), MaxSeqLen)).ToList();

    public RunOptions OptionsFor(Shard shard) => new(Limit, shard);

    /// <summary>True when two plans select the same samples from the same model and data (the shard count may differ).</summary>
    public bool SameRunAs(RunPlan other) =>
        Model == other.Model && Datasets == other.Datasets && Limit == other.Limit && MaxSeqLen == other.MaxSeqLen && Tasks.SequenceEqual(other.Tasks)
        && Protocol == other.Protocol && ChatTemplateFile == other.ChatTemplateFile;

    public static string PathIn(string runDir) => System.IO.Path.Combine(runDir, FileName);

    /// <summary>The plan in RUN_DIR/plan.json, or null when the folder has none.</summary>
    public static RunPlan? TryLoad(string runDir)
    {
        var path = PathIn(runDir);
        if (!File.Exists(path)) return null;
        try
        {
            var plan = JsonSerializer.Deserialize<RunPlan>(File.ReadAllText(path), RunDirectory.Json)
                ?? throw new InvalidDataException($"{path}: empty run plan");
            if (plan.Model is null || plan.Tasks is null || plan.Datasets is null) throw new InvalidDataException($"{path}: a run plan needs model, tasks and datasets");
            return plan;
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a run plan ({e.Message})", e); }
    }

    public static RunPlan Load(string runDir) => TryLoad(runDir)
        ?? throw new FileNotFoundException($"{PathIn(runDir)} not found: the folder was not split by --slurm-array or --workers.", PathIn(runDir));

    /// <summary>
    /// Saves the plan into the folder, refusing a folder that already holds a different run's plan (resuming
    /// with other samples, another model or other data would mix two runs' records).
    /// </summary>
    public void SaveTo(string runDir)
    {
        CheckAgainst(runDir);
        new RunDirectory(runDir).WriteJson(FileName, this);
    }

    /// <summary>Throws when the folder holds the plan of another run; a folder without a plan passes.</summary>
    public void CheckAgainst(string runDir)
    {
        var existing = TryLoad(runDir);
        if (existing is not null && !existing.SameRunAs(this))
            throw new InvalidOperationException($"{PathIn(runDir)} belongs to another run ({existing.Describe()}); this one is {Describe()}. Use a new --out folder.");
    }

    public string Describe() => $"model {Model}, protocol {Protocol}{(ChatTemplateFile is null ? "" : ", chat template " + ChatTemplateFile)}, tasks {string.Join(",", Tasks)}, data {Datasets}, limit {Limit?.ToString() ?? "none"}, max-seq-len {MaxSeqLen}";
}
