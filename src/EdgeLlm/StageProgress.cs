namespace EdgeLlm;

/// <summary>
/// Progress of one stage of a long workflow: <paramref name="Done"/> of <paramref name="Total"/> <paramref name="Unit"/>
/// (e.g. "scoring", 3 of 32 "layers"; "writing", bytes). Pruning, benchmarks, packing, checkpoint writing and memory
/// checks report it through <c>IProgress&lt;StageProgress&gt;</c>; the command line turns it into a bar per stage (or a
/// plain line every few seconds when stderr is redirected). A stage's last report has Done = Total.
/// </summary>
public sealed record StageProgress(string Stage, long Done, long Total, string Unit);
