namespace EdgeLlm.Evaluation.Runs;

/// <summary>Shard k of n (1-based): sample i belongs to it iff i mod n = k − 1.</summary>
public sealed record Shard(int K, int N)
{
    public static Shard Whole { get; } = new(1, 1);

    public bool Contains(int index) => index % N == K - 1;

    /// <summary>Parses "k/n".</summary>
    public static Shard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], out var k) && int.TryParse(parts[1], out var n) && n >= 1 && k >= 1 && k <= n)
            return new Shard(k, n);
        throw new FormatException($"'{text}' is not a shard k/n with 1 ≤ k ≤ n.");
    }

    public override string ToString() => $"{K}/{N}";
}
