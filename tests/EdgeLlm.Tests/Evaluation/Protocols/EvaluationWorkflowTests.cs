using System.Text.Json;
using EdgeLlm.Evaluation.Protocols;
using EdgeLlm.Evaluation.Runs;
using EdgeLlm.Evaluation.Workflows;
using EdgeLlm.Tests.Checkpoints;
using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Tests.Evaluation.Protocols;

/// <summary>The eval workflow as a library call: summary.json's named schema, run identity refusals, prompt export, tokenizer choice.</summary>
public class EvaluationWorkflowTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("edgellm-workflow-").FullName;
    public void Dispose() => Directory.Delete(temp, recursive: true);

    private static readonly string Demo = Path.Combine(SharedData.RepoRoot, "data", "demo-model");
    private static readonly string Qwen2Template = SharedData.Path("tokenizers", "chat-templates", "Qwen-Qwen2-7B-Instruct.jinja");

    private EvaluationRequest Request(string model, string run, EvaluationProtocol protocol, string? template = null) => new()
    {
        ModelFolder = model, RunFolder = Path.Combine(temp, run), DatasetsFolder = SharedData.Path("datasets"),
        Protocol = protocol, Tasks = ["truthfulqa"], Limit = 1, ChatTemplateFile = template,
    };

    // A QWen-7B layout folder (QWenLMHeadModel + qwen.tiktoken, no tokenizer.json): 256 single-byte ranks, so every id fits the tiny vocabulary.
    private string QWenFolder()
    {
        var folder = Path.Combine(temp, "qwen");
        QWenLayoutTests.BuildQWen(folder);
        File.WriteAllLines(Path.Combine(folder, "qwen.tiktoken"), Enumerable.Range(0, 256).Select(b => $"{Convert.ToBase64String([(byte)b])} {b}"));
        return folder;
    }

    [Fact]
    public void QWenLayoutWithQwenTiktokenIsEvaluatedAndSummaryJsonHasTheNamedSchema()
    {
        var qwen = QWenFolder();
        Assert.False(File.Exists(Path.Combine(qwen, "tokenizer.json")));
        Assert.IsType<TiktokenTokenizer>(Tokenizers.Load(qwen));
        var outcome = EvaluationWorkflow.Run(Request(qwen, "q", EvaluationProtocols.KitBase2024));
        var onDisk = JsonSerializer.Deserialize<EvaluationSummary>(File.ReadAllText(Path.Combine(temp, "q", "summary.json")), RunDirectory.Json)!;
        Assert.Equal("kit-2024-base", onDisk.Protocol);
        Assert.Equal(ModelIdentity.Of(qwen).Fingerprint, onDisk.ModelFingerprint);
        Assert.Equal(1, onDisk.Tasks["truthfulqa"].Samples);
        Assert.Equal("truthfulqa_gen_5ddc62 (metrics=bleu)", onDisk.Tasks["truthfulqa"].Config);
        Assert.Equal(outcome.Summary.Tasks["truthfulqa"].Score, onDisk.Tasks["truthfulqa"].Score);
        Assert.Single(outcome.Run.ReadRecordsOf("truthfulqa"));
    }

    [Fact]
    public void ResumingWithAnotherModelOrProtocolIsRefusedBeforeAnyRecordIsWritten()
    {
        EvaluationWorkflow.Run(Request(Demo, "run", EvaluationProtocols.KitBase2024));
        var records = File.ReadAllText(Path.Combine(temp, "run", "truthfulqa.jsonl"));
        var otherModel = Assert.Throws<RunMismatchException>(() => EvaluationWorkflow.Run(Request(QWenFolder(), "run", EvaluationProtocols.KitBase2024)));
        Assert.Contains("another model", otherModel.Message);
        Assert.Contains(Path.GetFullPath(Demo), otherModel.Message);
        var otherProtocol = Assert.Throws<RunMismatchException>(() => EvaluationWorkflow.Run(Request(Demo, "run", EvaluationProtocols.EdgeLlm2024, Qwen2Template)));
        Assert.Contains("protocol kit-2024-base", otherProtocol.Message);
        Assert.Equal(records, File.ReadAllText(Path.Combine(temp, "run", "truthfulqa.jsonl")));
        // The same model and protocol resume: nothing new to do.
        var again = EvaluationWorkflow.Run(Request(Demo, "run", EvaluationProtocols.KitBase2024));
        Assert.Equal((0, 1), (again.Results[0].NewSamples, again.Results[0].Skipped));
    }

    [Fact]
    public void InferHereAndScoreWhereOnlyTheConfigAndTokenizerAreGivesTheOnePassSummary()
    {
        var onePass = EvaluationWorkflow.Run(Request(Demo, "one", EvaluationProtocols.KitBase2024) with { Limit = 3 });
        var infer = Request(Demo, "split", EvaluationProtocols.KitBase2024) with { Limit = 3, Mode = EvaluationMode.Infer };
        var inferred = EvaluationWorkflow.Infer(infer);
        Assert.Equal(3, inferred.Tasks.Single().NewPredictions);
        Assert.False(File.Exists(Path.Combine(temp, "split", "summary.json")));
        // The scoring machine has the model's config and tokenizer but not its weights.
        var light = Path.Combine(temp, "no-weights");
        Directory.CreateDirectory(light);
        foreach (var f in Directory.GetFiles(Demo).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
            File.Copy(f, Path.Combine(light, Path.GetFileName(f)));
        var scored = EvaluationWorkflow.Run(infer with { ModelFolder = light, Mode = EvaluationMode.Score });
        Assert.Equal(onePass.Summary.Tasks["truthfulqa"].Score, scored.Summary.Tasks["truthfulqa"].Score);
        Assert.Equal(3, scored.Summary.Tasks["truthfulqa"].Samples);
        Assert.Equal(onePass.Summary.ModelFingerprint, scored.Summary.ModelFingerprint); // the run.json's model, which generated them
        Assert.True(File.Exists(Path.Combine(temp, "split", "summary.json")));
        // Scoring a folder nothing was generated into, or under another protocol, is refused.
        var nothing = Assert.Throws<MissingPredictionsException>(() => EvaluationWorkflow.Run(infer with { RunFolder = Path.Combine(temp, "empty"), Mode = EvaluationMode.Score }));
        Assert.Contains("run.json", nothing.Message);
        Assert.Throws<RunMismatchException>(() => EvaluationWorkflow.Run(infer with
        {
            ModelFolder = light, Mode = EvaluationMode.Score, Protocol = EvaluationProtocols.EdgeLlm2024, ChatTemplateFile = Qwen2Template,
        }));
    }

    [Fact]
    public void AFolderWithRecordsButNoIdentityIsRefused()
    {
        var run = Path.Combine(temp, "legacy");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "chid.jsonl"), "");
        var e = Assert.Throws<RunMismatchException>(() => EvaluationWorkflow.Run(Request(Demo, "legacy", EvaluationProtocols.KitBase2024)));
        Assert.Contains("no run.json", e.Message);
    }

    [Fact]
    public void ChatProtocolOnAModelWithoutAChatTemplateIsRefusedWithTheWayOut()
    {
        var e = Assert.Throws<InvalidOperationException>(() => EvaluationWorkflow.ExportPrompts(Request(Demo, "p", EvaluationProtocols.EdgeLlm2024), temp));
        Assert.Contains("no chat template", e.Message);
        Assert.Contains("--protocol kit-2024-base", e.Message);
        Assert.Contains("--chat-template", e.Message);
    }

    [Fact]
    public void SharedFewShotPrefixesLeaveEveryRecordAsComputedAlone()
    {
        // truthfulqa's prompts share the chat template's header (the demo model's context of 512 is too short for the
        // few-shot tasks): with sharing (the default) it is prefilled once.
        var shared = Request(Demo, "shared", EvaluationProtocols.EdgeLlm2024, Qwen2Template) with { Limit = 4, MaxBatch = 4 };
        var alone = shared with { RunFolder = Path.Combine(temp, "alone"), SharedPrefixMinTokens = 0 };
        EvaluationWorkflow.Run(shared);
        EvaluationWorkflow.Run(alone);
        List<(string, string, string, string)> Records(string run) => new RunDirectory(Path.Combine(temp, run)).ReadRecordsOf("truthfulqa")
            .OrderBy(r => r.Index).Select(r => (r.Id, r.Prompt, r.Output, r.Extracted)).ToList();
        Assert.Equal(4, Records("shared").Count);
        Assert.Contains(Records("shared"), r => r.Item3.Length > 0);
        Assert.Equal(Records("alone"), Records("shared"));

        // Something was there to share: the prompts' ids start alike.
        var prompts = File.ReadAllLines(EvaluationWorkflow.ExportPrompts(shared, Path.Combine(temp, "out")).Single().Path)
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        int common = prompts[0].GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray().AsSpan()
            .CommonPrefixLength(prompts[1].GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray());
        Assert.InRange(common, new EdgeLlm.Inference.BatcherOptions().SharedPrefixMinTokens, 100);
    }

    [Fact]
    public void ExportedPromptsAreTheTemplatesTextAndItsIdsWithoutAddedSpecialTokens()
    {
        var request = Request(Demo, "p", EvaluationProtocols.EdgeLlm2024, Qwen2Template) with { Tasks = ["csqa", "gsm8k"], Limit = 2 };
        var files = EvaluationWorkflow.ExportPrompts(request, Path.Combine(temp, "out"));
        Assert.Equal(["csqa", "gsm8k"], files.Select(f => f.Task));
        var tokenizer = Tokenizers.Load(Demo);
        var lines = File.ReadAllLines(Path.Combine(temp, "out", "prompts", "gsm8k.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        var text = lines[0].GetProperty("text").GetString()!;
        Assert.StartsWith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nQuestion: Angelo", text);
        Assert.EndsWith("Let's think step by step\nAnswer:\n<|im_end|>\n<|im_start|>assistant\n", text);
        Assert.Equal(tokenizer.Encode(text, addSpecialTokens: false), lines[0].GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()));
        Assert.Equal(512, lines[0].GetProperty("max_new_tokens").GetInt32());
        // gsm8k's own stop plus the model's stop words (generation_config eos 0 decoded, tokenizer eos_token).
        Assert.Equal(["Question:", "<|endoftext|>"], lines[0].GetProperty("stop").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("gsm8k/1", lines[1].GetProperty("id").GetString());
    }
}
