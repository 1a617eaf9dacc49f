using System.Text.Json;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Cli;

/// <summary><c>edgellm chat-template</c> and <c>eval --prompts-only</c> through the real command line.</summary>
public class ChatTemplateCliTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("edgellm-chat-cli-").FullName;
    public void Dispose() => Directory.Delete(temp, recursive: true);

    private static string Template(string name) => SharedData.Path("tokenizers", "chat-templates", name);

    private string Messages(string json)
    {
        var path = Path.Combine(temp, "messages.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void RendersATemplateFileWithSetVariablesAsJson()
    {
        var r = CliRunner.Run("chat-template", "--template", Template("meta-llama-Llama-3.1-8B-Instruct.jinja"),
            "--messages", Messages("""[{"role": "user", "content": " Hi "}]"""), "--add-generation-prompt",
            "--set", "bos_token=<|begin_of_text|>", "--set", "date_string=01 Dec 2026", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 01 Dec 2026\n\n<|eot_id|>" +
                     "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            JsonDocument.Parse(r.Stdout).RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public void TokenizerFolderGivesTheTemplateAndItsSpecialTokens()
    {
        var r = CliRunner.Run("chat-template", "--tokenizer", SharedData.Path("tokenizers", "qwen3"),
            "--messages", Messages("""[{"role": "user", "content": "Hi"}]"""), "--add-generation-prompt");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", r.Stdout);
    }

    [Theory]
    [InlineData("google-gemma-2-2b-it.jinja", """[{"role": "system", "content": "x"}]""", "the template raised: System role not supported")]
    [InlineData(null, """[{"role": "user", "content": "x"}]""", "unsupported statement 'include'")]
    public void ARaisingOrUnsupportedTemplateExitsOneWithOneLineNamingIt(string? file, string messages, string problem)
    {
        var path = file != null ? Template(file) : Path.Combine(temp, "bad.jinja");
        if (file == null) File.WriteAllText(path, "{% include 'other.jinja' %}");
        var r = CliRunner.Run("chat-template", "--template", path, "--messages", Messages(messages));
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains(path, line);
        Assert.Contains(problem, line);
    }

    [Fact]
    public void EvalPromptsOnlyWritesEveryTaskOfTheProtocol()
    {
        var r = CliRunner.Run("eval", Path.Combine(SharedData.RepoRoot, "data", "demo-model"), "--prompts-only", "--out", temp, "--limit", "1",
            "--data", SharedData.Path("datasets"), "--chat-template", Template("Qwen-Qwen2-7B-Instruct.jinja"), "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("edge-llm-2024", JsonDocument.Parse(r.Stdout).RootElement.GetProperty("protocol").GetString());
        foreach (var task in new[] { "csqa", "chid", "humaneval", "bbh", "gsm8k", "truthfulqa" })
        {
            var line = JsonDocument.Parse(Assert.Single(File.ReadAllLines(Path.Combine(temp, "prompts", task + ".jsonl")))).RootElement;
            Assert.StartsWith("<|im_start|>system\n", line.GetProperty("text").GetString());
            Assert.NotEmpty(line.GetProperty("ids").EnumerateArray());
        }
    }
}
