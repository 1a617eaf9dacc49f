using System.Text.Json;
using EdgeLlm.Checkpoints;
using EdgeLlm.Evaluation.Workflows;
using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;
using EdgeLlm.Tokenization.ChatTemplates;

namespace EdgeLlm.Tests.Checkpoints;

/// <summary>The final challenge models' presets: shapes (published parameter counts) and chat side (template, special and stop tokens against the real vocabularies).</summary>
public class InstructPresetTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("edgellm-presets-").FullName;
    public void Dispose() => Directory.Delete(temp, recursive: true);

    private static long Count(string preset) => TensorLayout.ParameterCount(ModelConfig.Parse(ModelPresets.Config(preset)));

    [Fact]
    public void ParameterCountsAreThePublishedOnes()
    {
        // Llama-3.1-8B-Instruct has Llama-3-8B's shapes (8,030,261,248; see ParameterCountTests) with a 128k context.
        Assert.Equal(8_030_261_248L, Count("llama-3.1-8b-instruct"));
        // Qwen2-7B-Instruct: d 3584, ffn 18944, 28 layers, 4 KV heads × 128 with q/k/v biases, vocab 152064, untied.
        // layer: q 3584²+3584, k,v 2·(512·3584+512), o 3584², mlp 3·3584·18944, 2 norms = 233,057,792; · 28 = 6,525,618,176
        // + embed 544,997,376 + head 544,997,376 + final norm 3,584 = 7,615,616,512
        Assert.Equal(7_615_616_512L, Count("qwen2-7b-instruct"));
        var llama = ModelConfig.Parse(ModelPresets.Config("llama-3.1-8b-instruct"));
        Assert.Equal([128001, 128008, 128009], llama.EosTokenIds);
        Assert.Equal(131072, llama.MaxPositions);
    }

    [Theory]
    [InlineData("llama-3.1-8b-instruct", "llama3")]
    [InlineData("qwen2-7b-instruct", "qwen3")]
    public void StopWordsAreGenerationEosIdsDecodedByTheRealVocabularyPlusTheEosToken(string preset, string vocabulary)
    {
        var chat = ChatModelPreset.Get(preset);
        var folder = Path.Combine(temp, preset);
        Directory.CreateDirectory(folder);
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(SharedData.Path("tokenizers", vocabulary, f), Path.Combine(folder, f));
        if (vocabulary == "llama3") RenameAddedToken(Path.Combine(folder, "tokenizer.json"), 128008, "<|eom_id|>");
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), JsonSerializer.Serialize(new { eos_token_id = chat.GenerationEosTokenIds }));
        var stops = ModelPrompting.ReadStopWords(folder, Tokenizers.Load(folder), chat.SpecialTokens);
        Assert.Equal(chat.StopWords, stops);
        Assert.True(File.Exists(SharedData.Path("tokenizers", "chat-templates", chat.ChatTemplate)));
        ChatTemplate.FromFile(SharedData.Path("tokenizers", "chat-templates", chat.ChatTemplate));
    }

    // The shared llama3 folder is the early Llama-3 revision, where id 128008 is still <|reserved_special_token_4|>;
    // Llama-3.1 named it <|eom_id|> (its other specials keep their ids: ../shared/tokenizers/chat-templates/README.md).
    private static void RenameAddedToken(string tokenizerJson, int id, string content)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(tokenizerJson))!;
        var token = root["added_tokens"]!.AsArray().Single(t => (int)t!["id"]! == id)!;
        token["content"] = content;
        File.WriteAllText(tokenizerJson, root.ToJsonString());
    }

    [Fact]
    public void InitRandomKnowsTheInstructPresets()
    {
        var r = CliRunner.Run("init-random", "--help");
        Assert.Contains("llama-3.1-8b-instruct", r.Stdout);
        Assert.Contains("qwen2-7b-instruct", r.Stdout);
    }
}
