using System.Text.Json;
using EdgeLlm.Tests.Support;
using EdgeLlm.Tokenization;
using EdgeLlm.Tokenization.ChatTemplates;

namespace EdgeLlm.Tests.Tokenization;

/// <summary>
/// The challenge's two chat models: Llama-3.1-8B-Instruct uses the shared Llama-3 vocabulary and Qwen2-7B-Instruct
/// the Qwen one (chat-templates/README.md gives their special-token ids). A prompt rendered from each published
/// template encodes to @huggingface/tokenizers' ids (References/tokenizer-extra-encodings.json), with every header
/// and turn marker a single special token.
/// </summary>
public class InstructPromptTests(QwenTiktokenFixture qwenTiktoken) : IClassFixture<QwenTiktokenFixture>
{
    private static readonly ChatMessage[] Conversation =
    [
        new("system", "You are terse."), new("user", "What is 2+2?"), new("assistant", "4"), new("user", "And   3+3?\n\tThanks."),
    ];

    private static string Render(string template, IReadOnlyList<ChatMessage> messages, params (string Name, string? Value)[] variables) =>
        ChatTemplate.FromFile(SharedData.Path("tokenizers", "chat-templates", template)).Render(messages, new ChatRenderOptions
        {
            AddGenerationPrompt = true,
            Variables = variables.ToDictionary(v => v.Name, v => JsonSerializer.SerializeToElement(v.Value)),
        });

    private static int[] Reference(string vocabulary, string text)
    {
        var index = ExtraReferenceEncodings.Texts.ToList().IndexOf(text);
        Assert.True(index >= 0, "the rendered prompt is not among the reference texts: " + JsonSerializer.Serialize(text));
        return ExtraReferenceEncodings.IdsFor(vocabulary)[index];
    }

    [Fact]
    public void Llama31_instruct_prompt_encodes_to_reference_ids_with_single_header_tokens()
    {
        var prompt = Render("meta-llama-Llama-3.1-8B-Instruct.jinja", Conversation,
            ("bos_token", "<|begin_of_text|>"), ("eos_token", "<|eot_id|>"), ("date_string", "02 Dec 2026"));
        var tok = Tokenizers.Load(SharedData.Path("tokenizers", "llama3"));
        var ids = tok.Encode(prompt);
        Assert.Equal(Reference("llama3", prompt), ids);
        Assert.Equal(128000, ids[0]);
        Assert.Equal(5, ids.Count(i => i == 128006));
        Assert.Equal(5, ids.Count(i => i == 128007));
        Assert.Equal(4, ids.Count(i => i == 128009));
        Assert.Equal(prompt, tok.Decode(ids));
        Assert.Equal(ids, tok.Tokenizer.EncodeToIds(prompt));
    }

    [Fact]
    public void Qwen2_instruct_prompt_encodes_to_reference_ids_from_tokenizer_json_and_from_qwen_tiktoken()
    {
        var prompt = Render("Qwen-Qwen2-7B-Instruct.jinja", Conversation[1..], ("bos_token", null), ("eos_token", "<|im_end|>"));
        var expected = Reference("qwen3", prompt);
        Assert.Equal(5, expected.Count(i => i == 151644));
        Assert.Equal(4, expected.Count(i => i == 151645));
        var fromJson = Tokenizers.Load(SharedData.Path("tokenizers", "qwen3"));
        Assert.Equal(expected, fromJson.Encode(prompt));
        Assert.Equal(expected, qwenTiktoken.Tokenizer.Encode(prompt));
        Assert.Equal(expected, qwenTiktoken.Tokenizer.Tokenizer.EncodeToIds(prompt));
        Assert.Equal("system\nYou are a helpful assistant.\nuser\nWhat is 2+2?\nassistant\n4\nuser\nAnd   3+3?\n\tThanks.\nassistant\n",
            fromJson.Decode(expected, skipSpecialTokens: true));
    }
}
