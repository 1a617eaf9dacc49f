using System.Text.RegularExpressions;

namespace EdgeLlm.Evaluation.Tasks;

/// <summary>
/// CommonsenseQA as the final kit ran it: OpenCompass 0.3.1's commonsenseqa_7shot_cot_gen_734a22 on the
/// validation split. Seven chain-of-thought examples are written into the template as HUMAN/BOT rounds (a
/// ZeroRetriever, so the template's "&lt;/E&gt;" becomes empty), then
/// "Q:{question}  Answer Choices: A. {A}\nB. {B}\nC. {C}\nD. {D}\nE. {E}\nA:"; generation up to the CLI's
/// max_out_len (the config sets none); the answer is match_answer_pattern with (?i)so the answer is\s*([A-P])
/// (the first match's letter, "" without one), compared exactly with answerKey (AccEvaluator).
/// </summary>
public sealed class CommonsenseQaCotTask(string validationFile, int maxNewTokens) : IEvaluationTask
{
    public const string AnswerPattern = @"(?i)so the answer is\s*([A-P])";
    private static readonly Regex Answer = new(AnswerPattern, RegexOptions.CultureInvariant);

    /// <summary>The config's seven (question, chain of thought) rounds, as written there.</summary>
    public static IReadOnlyList<(string Question, string Answer)> Examples { get; } =
    [
        ("Q: What do people use to absorb extra ink from a fountain pen? Answer Choices: A.shirt pocket B.calligrapher’s hand C.inkwell D.desk drawer E.blotter",
         "A: The answer must be an item that can absorb ink. Of the above choices, only blotters are used to absorb ink. So the answer is E."),
        ("Q: What home entertainment equipment requires cable?Answer Choices: A.radio shack B.substation C.television D.cabinet",
         "A: The answer must require cable. Of the above choices, only television requires cable. So the answer is C."),
        ("Q: The fox walked from the city into the forest, what was it looking for? Answer Choices: A.pretty flowers B.hen house C.natural habitat D.storybook",
         "A: The answer must be something in the forest. Of the above choices, only natural habitat is in the forest. So the answer is B."),
        ("Q: Sammy wanted to go to where the people were. Where might he go? Answer Choices: A.populated areas B.race track C.desert D.apartment E.roadblock",
         "A: The answer must be a place with a lot of people. Of the above choices, only populated areas have a lot of people. So the answer is A."),
        ("Q: Where do you put your grapes just before checking out? Answer Choices: A.mouth B.grocery cart Csuper market D.fruit basket E.fruit market",
         "A: The answer should be the place where grocery items are placed before checking out. Of the above choices, grocery cart makes the most sense for holding grocery items. So the answer is B."),
        ("Q: Google Maps and other highway and street GPS services have replaced what? Answer Choices: A.united states B.mexico C.countryside D.atlas",
         "A: The answer must be something that used to do what Google Maps and GPS services do, which is to give directions. Of the above choices, only atlases are used to give directions. So the answer is D."),
        ("Q: Before getting a divorce, what did the wife feel who was doing all the work? Answer Choices: A.harder B.anguish C.bitterness D.tears E.sadness",
         "A: The answer should be the feeling of someone getting divorced who was doing all the work. Of the above choices, the closest feeling is bitterness. So the answer is C."),
    ];

    public string Name => "csqa";

    public static IReadOnlyList<PromptRound> BuildRounds(string question, IReadOnlyList<string> choices)
    {
        var rounds = new List<PromptRound>();
        foreach (var (q, a) in Examples) { rounds.Add(PromptRound.Human(q)); rounds.Add(PromptRound.Bot(a)); }
        rounds.Add(PromptRound.Human($"Q:{question}  Answer Choices: A. {choices[0]}\nB. {choices[1]}\nC. {choices[2]}\nD. {choices[3]}\nE. {choices[4]}\nA:"));
        return rounds;
    }

    public IReadOnlyList<EvalSample> LoadSamples()
    {
        var request = new GenerationRequest(maxNewTokens, []);
        return CommonsenseQaTask.ReadRows(validationFile).Select((row, i) =>
        {
            var rounds = BuildRounds(row.Question, row.Choices);
            return new EvalSample($"csqa/{i}", "commonsense_qa", string.Join("\n", rounds.Select(r => r.Text)), row.Answer, request) { Rounds = rounds };
        }).ToList();
    }

    /// <summary>match_answer_pattern: group 1 of the first match, or "".</summary>
    public static string ExtractAnswer(string output) => Answer.Match(output) is { Success: true } m ? m.Groups[1].Value : "";

    public SampleRecord Score(EvalSample sample, int index, string output)
    {
        var extracted = ExtractAnswer(output);
        return Records.Make(Name, sample, index, output, extracted, extracted == sample.Reference ? 1 : 0);
    }

    public TaskSummary Summarize(IReadOnlyList<SampleRecord> records) => Summaries.MeanOfSubsets(Name, records);
}
