using EdgeLlm.Tests.Support;
using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Tasks;

namespace EdgeLlm.Tests.Evaluation;

public class DatasetTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("edgellm-data-").FullName;
    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public void BbhHasAll27SubtasksWithTheirPublishedCounts()
    {
        var task = new BbhTask(SharedData.Path("datasets", "bbh", "bbh"), SharedData.Path("datasets", "bbh", "cot-prompts"));
        var samples = task.LoadSamples();
        Assert.Equal(27, samples.Select(s => s.Subset).Distinct().Count());
        Assert.Equal(6511, samples.Count); // BIG-Bench Hard's 27 test sets (250 each, but 146/187/228 for three)
        var first = samples.First(s => s.Subset == "navigate");
        Assert.StartsWith("Follow the given examples and answer the question.\nGiven a series of navigation instructions", first.Prompt);
        Assert.EndsWith("\nA: Let's think step by step.", first.Prompt);
        Assert.DoesNotContain("canary", first.Prompt);
        Assert.Equal(512, first.Request.MaxNewTokens);
        // Multiple-choice targets "(A)" are post-processed like predictions (dataset_postprocessor=bbh_mcq_postprocess).
        // Three published targets are not "(X)"; bbh_mcq_postprocess then returns the first capital, or the text itself.
        var odd = samples.Where(s => BbhTask.IsMultipleChoice(s.Subset) && !System.Text.RegularExpressions.Regex.IsMatch(s.Reference, "^[A-R]$"))
            .Select(s => (s.Id, s.Reference)).ToList();
        Assert.Equal([("bbh/ruin_names/99", "dearth, wind, & fire"), ("bbh/ruin_names/144", "rita, sue and bob poo")], odd);
        Assert.Equal("M", samples.Single(s => s.Id == "bbh/movie_recommendation/163").Reference); // 'Monsters, Inc' -> first capital
    }

    [Fact]
    public void Gsm8kPromptIsFourShot()
    {
        var samples = new Gsm8kTask(SharedData.Path("datasets", "gsm8k", "test.jsonl")).LoadSamples();
        Assert.Equal(1319, samples.Count);
        Assert.Equal("18", samples[0].Reference); // Janet's ducks: #### 18
        Assert.Equal(5, samples[0].Prompt.Split("Question: ").Length - 1);
        Assert.Contains("The answer is 4\n\nQuestion: Mark's basketball team", samples[0].Prompt); // rounds joined by "\n"
        Assert.EndsWith("Let's think step by step\nAnswer:", samples[0].Prompt);
    }

    [Fact]
    public void ChidReadsBothSplits()
    {
        var samples = new ChidTask(SharedData.Path("datasets", "chid")).LoadSamples();
        Assert.Equal(["chid-dev", "chid-test"], samples.Select(s => s.Subset).Distinct());
        Assert.All(samples, s => Assert.DoesNotContain("#idiom#", s.Prompt));
        Assert.Contains("______", samples[0].Prompt);
        Assert.EndsWith("请从”A“，”B“，”C“，”D“，”E“，”F“，”G“中进行选择。答：", samples[0].Prompt);
    }

    [Fact]
    public void TruthfulQaReadsTheCsv()
    {
        var samples = new TruthfulQaTask(SharedData.Path("datasets", "truthfulqa", "TruthfulQA.csv")).LoadSamples();
        Assert.Equal(817, samples.Count);
        Assert.Equal("What happens to you if you eat watermelon seeds?", samples[0].Prompt);
        var reference = System.Text.Json.JsonSerializer.Deserialize<TruthfulQaTask.Reference>(samples[0].Reference)!;
        Assert.Contains("Nothing happens", reference.Correct);
        Assert.Contains("You grow watermelons in your stomach", reference.Incorrect);
    }

    [Fact]
    public void MalformedLinesNameFileAndLine()
    {
        var file = Path.Combine(temp, "test.jsonl");
        File.WriteAllText(file, "{\"question\": \"q\", \"answer\": \"a\\n#### 1\"}\n{\"question\": \"q\", \"answer\": \n");
        var e = Assert.Throws<DatasetFormatException>(() => new Gsm8kTask(file).LoadSamples());
        Assert.Equal(2, e.Line);
        Assert.Contains("test.jsonl:2", e.Message);
        File.WriteAllText(file, "{\"question\": \"q\"}\n");
        Assert.Contains("test.jsonl:1", Assert.Throws<DatasetFormatException>(() => new Gsm8kTask(file).LoadSamples()).Message);
        var chid = Path.Combine(temp, "dev_few_all.json");
        File.WriteAllText(chid, "{\"content\": \"x#idiom#\", \"candidates\": [\"a\"], \"answer\": 0}\n");
        Assert.Contains("dev_few_all.json:1", Assert.Throws<DatasetFormatException>(() => new ChidTask(temp).LoadSamples()).Message);
    }

    [Fact]
    public void LongBenchReadsThePublishedJsonLines()
    {
        var data = Directory.CreateDirectory(Path.Combine(temp, "data")).FullName;
        File.WriteAllText(Path.Combine(data, "trec.jsonl"),
            "{\"input\": \"What is X?\", \"context\": \"Q: Who? Type: Human\", \"answers\": [\"Entity\"], \"length\": 5, \"dataset\": \"trec\", \"language\": \"en\", \"all_classes\": [\"Entity\", \"Human\"], \"_id\": \"abc\"}\n");
        File.WriteAllText(Path.Combine(data, "multifieldqa_zh.jsonl"),
            "{\"input\": \"首都？\", \"context\": \"北京是首都。\", \"answers\": [\"北京\"], \"length\": 6, \"dataset\": \"multifieldqa_zh\", \"language\": \"zh\", \"all_classes\": null, \"_id\": \"z1\"}\n");
        var task = new LongBenchTask(data);
        var samples = task.LoadSamples();
        Assert.Equal(["multifieldqa_zh", "trec"], samples.Select(s => s.Subset).Order());
        var trec = samples.Single(s => s.Subset == "trec");
        Assert.Equal("Please determine the type of the question below. Here are some examples of questions.\n\nQ: Who? Type: Human\nWhat is X?", trec.Prompt);
        Assert.True(trec.Request.TruncateMiddle);
        Assert.Equal(2048 - 64, trec.Request.MaxInputTokens);
        Assert.Equal(1.0, task.Score(trec, 0, "Entity\nHuman").Score); // trec_postprocess keeps the first line
        var zh = samples.Single(s => s.Subset == "multifieldqa_zh");
        Assert.Equal(1.0, task.Score(zh, 1, "北京").Score);
        var summary = task.Summarize([task.Score(trec, 0, "Human"), task.Score(zh, 1, "北京")]);
        Assert.Equal(50.0, summary.Score, 12); // mean of subsets: (0 + 100) / 2
    }

    [Fact]
    public void LongBenchWithoutAnySubsetFileIsAnErrorNamingTheFolder()
    {
        var empty = Directory.CreateDirectory(Path.Combine(temp, "no-longbench")).FullName;
        var error = Assert.Throws<FileNotFoundException>(() => TaskCatalog.Create("longbench", empty));
        Assert.Contains(Path.Combine(empty, "longbench", "data"), error.Message);
        Assert.Contains("leave longbench out of --tasks", error.Message);
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.Combine(empty, "longbench", "data")).FullName, "trec.jsonl"),
            "{\"input\": \"q\", \"context\": \"c\", \"answers\": [\"a\"], \"_id\": \"x\"}\n");
        Assert.Single(TaskCatalog.Create("longbench", empty).LoadSamples()); // one subset present is enough
    }
}
