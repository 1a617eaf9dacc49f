using System.Text.Json;
using EdgeLlm.Tokenization.ChatTemplates;

namespace EdgeLlm.Tests.Tokenization.ChatTemplates;

/// <summary>Unsupported syntax, malformed templates and raise_exception give one line naming the template and line:column.</summary>
public class ChatTemplateErrorTests
{
    private static JsonElement Messages(string json) => JsonDocument.Parse(json).RootElement;

    [Theory]
    [InlineData("hello\n  {% include 'x.jinja' %}", 2, 6, "unsupported statement 'include'")]
    [InlineData("{% for x in y recursive %}{% endfor %}", 1, 15, "recursive")]
    [InlineData("{{ a + }}", 1, 8, "unexpected '}}'")]
    [InlineData("a\nb {% if x %}", 2, 13, "unexpected end of template")]
    [InlineData("{{ 'open }}", 1, 4, "unterminated string")]
    [InlineData("x {# never closed", 1, 3, "unterminated comment")]
    public void SyntaxErrorsNameTemplateLineAndColumn(string source, int line, int column, string problem)
    {
        var e = Assert.ThrowsAny<ChatTemplateException>(() => ChatTemplate.Parse(source, "my.jinja"));
        Assert.Equal(("my.jinja", line, column), (e.Template, e.Line, e.Column));
        Assert.Contains(problem, e.Message);
        Assert.StartsWith($"my.jinja:{line}:{column}: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void RaiseExceptionIsARaisedErrorWithTheTemplatesMessage()
    {
        var t = ChatTemplate.Parse("{% if messages[0].role == 'system' %}\n  {{ raise_exception('System role not supported') }}{% endif %}", "gemma.jinja");
        var e = Assert.Throws<ChatTemplateRaisedException>(() => t.Render(Messages("""[{"role": "system", "content": "x"}]"""), new ChatRenderOptions()));
        Assert.Equal("System role not supported", e.TemplateMessage);
        Assert.Equal("gemma.jinja:2:6: the template raised: System role not supported", e.Message);
    }

    // Python's jinja2 (what transformers runs) raises UndefinedError on an attribute of an undefined value;
    // @huggingface/jinja returns undefined instead, so this case is not in the reference comparison.
    [Fact]
    public void AttributeOfUndefinedIsAnErrorAsInPythonJinja()
    {
        var t = ChatTemplate.Parse("{{ messages[0]['role'] }}", "t.jinja");
        var e = Assert.ThrowsAny<ChatTemplateException>(() => t.Render(Messages("[]"), new ChatRenderOptions()));
        Assert.Contains("undefined", e.Message);
        Assert.StartsWith("t.jinja:1:", e.Message);
    }

    [Fact]
    public void MutatingAListIsRefusedAsTheImmutableSandboxDoes()
    {
        var t = ChatTemplate.Parse("{% set x = [] %}{{ x.append(1) }}", "t.jinja");
        var e = Assert.ThrowsAny<ChatTemplateException>(() => t.Render(Messages("[]"), new ChatRenderOptions()));
        Assert.Contains("unsafe", e.Message);
    }
}
