namespace EdgeLlm;

/// <summary>
/// An <see cref="IProgress{T}"/> that reports on the calling thread: <see cref="Progress{T}"/> posts to the thread pool,
/// too late for a caller that reads the latest report (or cancels) on its own thread.
/// </summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
