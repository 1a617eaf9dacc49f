namespace EdgeLlm.Tests.Support;

/// <summary>Base for test classes that write files: each instance (one per test) gets a fresh folder, removed afterwards.</summary>
public abstract class TempDirectoryTest : IDisposable
{
    protected string Temp { get; } = Directory.CreateTempSubdirectory("edgellm-test-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(Temp, recursive: true); } catch (IOException) { }
        GC.SuppressFinalize(this);
    }
}
