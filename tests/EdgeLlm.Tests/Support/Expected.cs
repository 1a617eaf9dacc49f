using EdgeLlm.Checkpoints;

namespace EdgeLlm.Tests.Support;

/// <summary>Reads a fixture's <c>expected.safetensors</c> (outputs transformers computed).</summary>
public sealed class Expected : IDisposable
{
    private readonly SafeTensorsFile file;

    public Expected(string path) => file = SafeTensorsFile.Open(path);

    public int[] Ids(string name) => file[name].ToInt64Array().Select(v => (int)v).ToArray();
    public float[] Floats(string name) => file[name].ToFloatArray();
    public IReadOnlyDictionary<string, string> Metadata => file.Metadata;

    public void Dispose() => file.Dispose();

    public static float MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
