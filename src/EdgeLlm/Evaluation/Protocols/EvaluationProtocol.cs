namespace EdgeLlm.Evaluation.Protocols;

/// <summary>How prompts reach the model: OpenCompass's --hf-type base (rounds joined by "\n", BOS added) or chat
/// (HuggingFacewithChatTemplate: rounds become messages rendered by the tokenizer's chat template).</summary>
public enum PromptStyle { Base, Chat }

/// <summary>
/// A named way of running the challenge's evaluation: the prompt style, OpenCompass's CLI --max-out-len (used
/// where a dataset config sets no max_out_len), the tasks run by default, and what it reproduces.
/// </summary>
public sealed record EvaluationProtocol(string Name, PromptStyle Style, int CliMaxOutLen, IReadOnlyList<string> DefaultTasks, string Reproduces)
{
    public override string ToString() => Name;
}

/// <summary>The protocols <c>edgellm eval --protocol</c> knows.</summary>
public static class EvaluationProtocols
{
    /// <summary>The starting kit's final command (README at b5aca58): OpenCompass 0.3.1, --hf-type chat, --max-out-len 1024.</summary>
    public static EvaluationProtocol EdgeLlm2024 { get; } = new("edge-llm-2024", PromptStyle.Chat, 1024,
        ["csqa", "chid", "humaneval", "bbh", "gsm8k", "truthfulqa"],
        "opencompass 0.3.1 --datasets commonsenseqa_7shot_cot_gen_734a22 FewCLUE_chid_gen humaneval_gen bbh_gen gsm8k_gen truthfulqa_gen --hf-type chat --max-out-len 1024");

    /// <summary>The early kit: --hf-type base with commonsenseqa_gen and LongBench, the CLI's default --max-out-len 256.</summary>
    public static EvaluationProtocol KitBase2024 { get; } = new("kit-2024-base", PromptStyle.Base, 256,
        ["csqa", "bbh", "gsm8k", "longbench", "humaneval", "truthfulqa", "chid"],
        "opencompass 0.3.1 --datasets commonsenseqa_gen longbench bbh_gen gsm8k_gen humaneval_gen FewCLUE_chid_gen truthfulqa_gen --hf-type base");

    public static IReadOnlyList<EvaluationProtocol> All { get; } = [EdgeLlm2024, KitBase2024];

    public static EvaluationProtocol Default => EdgeLlm2024;

    public static EvaluationProtocol Get(string name) => All.FirstOrDefault(p => p.Name == name)
        ?? throw new ArgumentException($"Unknown protocol '{name}'; known: {string.Join(", ", All.Select(p => p.Name))}.");
}
