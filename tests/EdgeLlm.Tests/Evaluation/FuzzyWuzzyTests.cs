using EdgeLlm.Evaluation.Metrics;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>fuzz.ratio against Debian's python3-fuzzywuzzy (python-Levenshtein path) on the same pairs.</summary>
public class FuzzyWuzzyTests
{
    private static IEnumerable<string[]> Pairs()
    {
        string[] words = ["return", "self", "x", "=", "+", "(", ")", "foo_bar", "42", "'s'", " ", "#", "值", "😀", "\t"];
        var random = new Random(1234);
        string Text(int length) => string.Concat(Enumerable.Range(0, length).Select(_ => words[random.Next(words.Length)]));
        yield return ["", ""];
        yield return ["", "a"];
        yield return ["a", ""];
        yield return ["same", "same"];
        yield return ["abcdefgh", "aijklmno"];
        yield return ["abcdefgh", "aijkmnoh"];
        yield return ["return x + 1", "return x+1"];
        yield return ["😀😁", "😁😀"];
        yield return ["名字 = '张三'", "名字 = '李四'"];
        var line = "result = compute(" + string.Join(", ", Enumerable.Range(0, 50).Select(i => $"arg{i}")) + ")";
        yield return [line, line.Replace("arg1", "argument1")];
        yield return [line, new string(line.Reverse().ToArray())];
        for (int i = 0; i < 200; i++) yield return [Text(random.Next(0, 30)), Text(random.Next(0, 30))];
        for (int i = 0; i < 20; i++) yield return [Text(random.Next(60, 120)), Text(random.Next(60, 120))]; // > 200 characters
    }

    [Fact]
    public void RatioMatchesFuzzywuzzy()
    {
        var pairs = Pairs().ToList();
        var expected = DebianPython.Run(
            "from fuzzywuzzy import fuzz\nprint(json.dumps([fuzz.ratio(a, b) for a, b in json.load(sys.stdin)]))",
            pairs, "fuzzywuzzy.fuzz", "python3-fuzzywuzzy");
        for (int i = 0; i < pairs.Count; i++)
            Assert.True(expected[i].GetInt32() == FuzzyWuzzy.Ratio(pairs[i][0], pairs[i][1]),
                $"pair {i} ('{pairs[i][0]}', '{pairs[i][1]}'): fuzzywuzzy {expected[i].GetInt32()}, EdgeLlm {FuzzyWuzzy.Ratio(pairs[i][0], pairs[i][1])}");
    }
}
