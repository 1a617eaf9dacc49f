using EdgeLlm.Evaluation.Metrics;

namespace EdgeLlm.Evaluation.Tasks;

/// <summary>
/// BIG-Bench Hard as OpenCompass's bbh_gen (bbh_gen_5b92b0): all 27 subtasks, 3-shot chain of thought.
/// Prompt: "Follow the given examples and answer the question.\n{cot prompt}\n\nQ: {input}\nA: Let's think step by step."
/// where the CoT prompt is BIG-Bench-Hard's cot-prompts/&lt;task&gt;.txt without its two header lines (canary
/// and "-----": OpenCompass's lib_prompt files are exactly that); generation up to 512 tokens, no stop
/// string. Multiple-choice subtasks: bbh_mcq_postprocess on output and target, exact match
/// (BBHEvaluator_mcq); free-form: bbh_freeform_postprocess on the output, exact match with the target
/// (BBHEvaluator). The BBH score is the mean of the 27 subtask accuracies.
/// </summary>
public sealed class BbhTask(string dataFolder, string cotPromptFolder) : IEvaluationTask
{
    public static IReadOnlyList<string> MultipleChoice { get; } =
    [
        "temporal_sequences", "disambiguation_qa", "date_understanding", "tracking_shuffled_objects_three_objects",
        "penguins_in_a_table", "geometric_shapes", "snarks", "ruin_names", "tracking_shuffled_objects_seven_objects",
        "tracking_shuffled_objects_five_objects", "logical_deduction_three_objects", "hyperbaton",
        "logical_deduction_five_objects", "logical_deduction_seven_objects", "movie_recommendation",
        "salient_translation_error_detection", "reasoning_about_colored_objects",
    ];

    public static IReadOnlyList<string> FreeForm { get; } =
    [
        "multistep_arithmetic_two", "navigate", "dyck_languages", "word_sorting", "sports_understanding",
        "boolean_expressions", "object_counting", "formal_fallacies", "causal_judgement", "web_of_lies",
    ];

    public string Name => "bbh";

    public static bool IsMultipleChoice(string subtask) => MultipleChoice.Contains(subtask);

    /// <summary>OpenCompass's lib_prompt text: the published CoT prompt minus its canary line and "-----" line.</summary>
    public static string FewShotHint(string cotPromptFile)
    {
        var text = DatasetFiles.ReadText(cotPromptFile);
        var lines = text.Split('\n');
        if (lines.Length < 3 || !lines[0].StartsWith("BENCHMARK DATA SHOULD NEVER APPEAR", StringComparison.Ordinal) || lines[1] != "-----")
            throw new DatasetFormatException(cotPromptFile, 1, "expected the canary line and '-----' before the examples");
        return string.Join('\n', lines[2..]);
    }

    public static string BuildPrompt(string hint, string input) =>
        $"Follow the given examples and answer the question.\n{hint}\n\nQ: {input}\nA: Let's think step by step.";

    public IReadOnlyList<EvalSample> LoadSamples()
    {
        var request = new GenerationRequest(512, []);
        var samples = new List<EvalSample>();
        foreach (var subtask in MultipleChoice.Concat(FreeForm))
        {
            var hint = FewShotHint(Path.Combine(cotPromptFolder, subtask + ".txt"));
            var file = Path.Combine(dataFolder, subtask + ".json");
            var examples = DatasetFiles.Field(DatasetFiles.JsonDocumentRoot(file), "examples", file, 1, System.Text.Json.JsonValueKind.Array);
            if (examples.GetArrayLength() == 0) throw new DatasetFormatException(file, 1, "'examples' is empty");
            int i = 0;
            foreach (var example in examples.EnumerateArray())
            {
                var input = DatasetFiles.Text(example, "input", file, 1);
                var target = DatasetFiles.Text(example, "target", file, 1);
                var reference = IsMultipleChoice(subtask) ? OpenCompassPostprocessors.BbhMultipleChoice(target) : target;
                samples.Add(new EvalSample($"bbh/{subtask}/{i++}", subtask, BuildPrompt(hint, input), reference, request));
            }
        }
        return samples;
    }

    public SampleRecord Score(EvalSample sample, int index, string output)
    {
        var extracted = IsMultipleChoice(sample.Subset) ? OpenCompassPostprocessors.BbhMultipleChoice(output) : OpenCompassPostprocessors.BbhFreeForm(output);
        return Records.Make(Name, sample, index, output, extracted, extracted == sample.Reference ? 1 : 0);
    }

    public TaskSummary Summarize(IReadOnlyList<SampleRecord> records) => Summaries.MeanOfSubsets(Name, records);
}
