namespace EdgeLlm.Architectures;

/// <summary>The architectures EdgeLlm runs, one line each; config.json's <c>architectures[0]</c> picks one.</summary>
public static class ArchitectureRegistry
{
    public static IReadOnlyList<ModelArchitecture> All { get; } =
    [
        Llama.Instance,
        Qwen2.Instance,
        Phi.Instance,
        QWen.Instance,
        Mistral.Instance,
    ];

    /// <summary>The architecture registered under <paramref name="name"/>, or null.</summary>
    public static ModelArchitecture? Find(string name) => All.FirstOrDefault(a => a.Name == name);
}
