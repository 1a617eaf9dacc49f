using EdgeLlm.Hub;

namespace EdgeLlm.Tests.Hub;

public sealed class HubSettingsTests
{
    private static HubSettings From(params (string Name, string Value)[] variables) =>
        HubSettings.FromVariables(name => variables.FirstOrDefault(v => v.Name == name).Value);

    [Fact]
    public void Defaults_follow_huggingface_hub()
    {
        var settings = From(("XDG_CACHE_HOME", "/x/cache"));
        Assert.Equal("https://huggingface.co", settings.Endpoint);
        Assert.Equal("/x/cache/huggingface/hub", settings.HubCache);
        Assert.False(settings.Offline);
    }

    [Fact]
    public void HF_variables_are_honoured_with_HF_HUB_CACHE_over_HF_HOME()
    {
        var settings = From(("HF_HOME", "/h"), ("HF_ENDPOINT", "https://mirror.example/"), ("HF_TOKEN", "hf_abc"), ("HF_HUB_OFFLINE", "1"));
        Assert.Equal("https://mirror.example", settings.Endpoint);
        Assert.Equal("/h/hub", settings.HubCache);
        Assert.Equal("/h/edgellm", settings.DataCache);
        Assert.Equal("hf_abc", settings.Token);
        Assert.True(settings.Offline);
        Assert.Equal("/c", From(("HF_HOME", "/h"), ("HF_HUB_CACHE", "/c")).HubCache);
    }

    [Theory]
    [InlineData("1", true)] [InlineData("true", true)] [InlineData("YES", true)] [InlineData("on", true)]
    [InlineData("0", false)] [InlineData("false", false)] [InlineData("", false)]
    public void HF_HUB_OFFLINE_accepts_huggingface_hubs_truthy_spellings(string value, bool offline) =>
        Assert.Equal(offline, From(("HF_HOME", "/h"), ("HF_HUB_OFFLINE", value)).Offline);

    [Fact]
    public void The_token_file_under_HF_HOME_is_read_when_HF_TOKEN_is_unset()
    {
        using var home = new TempFolder();
        File.WriteAllText(Path.Combine(home.Path, "token"), "hf_from_file\n");
        Assert.Equal("hf_from_file", From(("HF_HOME", home.Path)).Token);
    }
}
