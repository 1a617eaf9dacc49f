namespace EdgeLlm.Evaluation.Tasks;

/// <summary>One four-option question of MMLU or C-Eval: the question, options A–D and the answer letter.</summary>
public sealed record ChoiceQuestion(string Question, IReadOnlyList<string> Options, string Answer);

/// <summary>
/// What MMLU and C-Eval share in OpenCompass 0.3.1: FixKRetriever(fix_id_list=[0..4]) puts the first five dev rows
/// of the subject before the question as HUMAN/BOT rounds (a "meta" ice template, so no separator between them), the
/// "&lt;/E&gt;" ice token at the template's start is replaced by those rounds; a base model sees the non-empty rounds
/// joined by "\n" (LMTemplateParser), a chat model one message per round.
/// </summary>
internal static class FewShotChoiceRows
{
    public static readonly int[] FixIdList = [0, 1, 2, 3, 4];

    public static IReadOnlyList<PromptRound> Rounds(IReadOnlyList<ChoiceQuestion> dev, ChoiceQuestion test,
        Func<ChoiceQuestion, string> human, Func<ChoiceQuestion, string> bot, string devFile)
    {
        var rounds = new List<PromptRound>();
        foreach (var id in FixIdList)
        {
            if (id >= dev.Count) throw new DatasetFormatException(devFile, 0, $"has {dev.Count} rows; the 5-shot prompt needs row {id}");
            rounds.Add(PromptRound.Human(human(dev[id])));
            rounds.Add(PromptRound.Bot(bot(dev[id])));
        }
        rounds.Add(PromptRound.Human(human(test)));
        return rounds;
    }

    public static string BasePrompt(IReadOnlyList<PromptRound> rounds) =>
        string.Join("\n", rounds.Select(r => r.Text).Where(t => t.Length > 0));

    public static string SubjectOf(string file, string suffix)
    {
        var name = Path.GetFileName(file);
        return name[..^suffix.Length];
    }

    /// <summary>The subjects present in <paramref name="folder"/> as NAME{suffix} files, in ordinal order.</summary>
    public static List<string> Subjects(string folder, string suffix)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such folder (the dataset's split folder).");
        var subjects = Directory.GetFiles(folder, "*" + suffix).Select(f => SubjectOf(f, suffix)).Order(StringComparer.Ordinal).ToList();
        if (subjects.Count == 0) throw new DatasetFormatException(folder, 0, $"holds no *{suffix} file");
        return subjects;
    }
}
