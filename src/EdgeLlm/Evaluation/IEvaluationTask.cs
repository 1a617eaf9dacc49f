namespace EdgeLlm.Evaluation;

/// <summary>One of the challenge's tasks: its samples (prompts), how an output is scored, and how scores combine.</summary>
public interface IEvaluationTask
{
    /// <summary>Short name used on the command line and for RUN_DIR/&lt;name&gt;.jsonl.</summary>
    string Name { get; }

    /// <summary>Every sample in a fixed order (the order shards and --limit refer to).</summary>
    IReadOnlyList<EvalSample> LoadSamples();

    /// <summary>
    /// Refuses, before any model is loaded or any sample generated, when this machine could not score the task's outputs
    /// (HumanEval without its sandbox). Exporting prompts needs no such check.
    /// </summary>
    void EnsureCanScore() { }

    /// <summary>Post-processes one output and scores it against the sample's reference.</summary>
    SampleRecord Score(EvalSample sample, int index, string output);

    /// <summary>Combines per-sample records into the task's score the way OpenCompass does.</summary>
    TaskSummary Summarize(IReadOnlyList<SampleRecord> records);
}
