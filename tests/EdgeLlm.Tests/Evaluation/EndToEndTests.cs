using EdgeLlm.Tests.Support;
using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Evaluation.Tasks;
using EdgeLlm.Inference;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Evaluation;

public class EndToEndTests
{
    private static readonly string ModelDir = SharedData.Path("fixtures", "trained", "llama-pydoc");

    [Fact]
    public void TrainedCheckpointRunsCsqaAndResumes()
    {
        using var lm = CausalLM.Load(ModelDir);
        var tokenizer = Tokenizers.Load(Path.Combine(ModelDir, "tokenizer.json"));
        var model = new EngineEvaluationModel(lm, tokenizer);
        var temp = Directory.CreateTempSubdirectory("edgellm-e2e-").FullName;
        try
        {
            var task = new CommonsenseQaTask(SharedData.Path("datasets", "commonsenseqa", "dev_rand_split.jsonl"), maxNewTokens: 6);
            var dir = new RunDirectory(temp);
            var result = new EvaluationRunner(model, dir).Run(task, new RunOptions(Limit: 3));
            var records = dir.ReadRecordsOf("csqa");
            Assert.Equal(3, records.Count);
            // Each output is the engine's own greedy continuation of that prompt.
            var direct = model.Generate([records[1].Prompt], new GenerationRequest(6, []));
            Assert.Equal(direct[0], records[1].Output);
            Assert.All(records, r => Assert.Equal(r.Extracted == r.Reference ? 1 : 0, r.Score));
            Assert.Equal(100.0 * records.Sum(r => r.Score) / 3, result.Summary.Score, 12);

            // Log-likelihoods with a shared context equal the sums of per-token log-probs of the whole sequence.
            var context = "def add(a, b):";
            var scores = model.LogLikelihoods(context, ["\n    return a + b", " pass"]);
            var ctx = tokenizer.Encode(context, addSpecialTokens: true);
            var whole = tokenizer.Encode(context + " pass", addSpecialTokens: true);
            var lp = new Scorer(lm).LogProbs(whole);
            Assert.Equal(lp[(ctx.Length - 1)..].Sum(v => (double)v), scores[1], 3);
        }
        finally { Directory.Delete(temp, recursive: true); }
    }
}
