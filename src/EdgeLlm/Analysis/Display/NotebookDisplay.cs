namespace EdgeLlm.Analysis.Display;

/// <summary>
/// <c>display x</c> for notebook cells run by <c>edgellm notebook run</c>: the executor listens here and turns every
/// value shown into a display_data output (HTML and plain text through <see cref="Rich"/>). Outside a notebook run
/// the value is printed as text.
/// </summary>
public static class NotebookDisplay
{
    private static readonly AsyncLocal<Action<object?>?> sink = new();

    /// <summary>Routes <see cref="Show"/> to <paramref name="handler"/> until the returned scope is disposed.</summary>
    public static IDisposable Capture(Action<object?> handler)
    {
        var previous = sink.Value;
        sink.Value = handler;
        return new Scope(() => sink.Value = previous);
    }

    public static void Show(object? value)
    {
        if (sink.Value is { } handler) handler(value);
        else Console.WriteLine(Rich.Text(value));
    }

    private sealed class Scope(Action restore) : IDisposable { public void Dispose() => restore(); }
}
