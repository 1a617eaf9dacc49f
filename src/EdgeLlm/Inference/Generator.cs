using System.Diagnostics;

namespace EdgeLlm.Inference;

/// <summary>How greedy generation stops.</summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 256;
    /// <summary>Generation ends when the decoded text contains one of these; the text is cut before it.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>Token ids that end generation (the model's EOS by default when <see cref="StopAtEos"/>).</summary>
    public IReadOnlyList<int> StopTokens { get; init; } = [];
    public bool StopAtEos { get; init; } = true;
}

/// <summary>
/// One generated response. TPOT follows the challenge's definition: the time to produce the whole
/// response (prefill included) divided by the number of generated tokens;
/// <see cref="DecodeMsPerToken"/> is the steady-state decode step alone.
/// </summary>
public sealed record GenerationResult(int[] Tokens, string? Text, string FinishReason, double PrefillSeconds, double DecodeSeconds)
{
    public double TpotMs => Tokens.Length == 0 ? 0 : (PrefillSeconds + DecodeSeconds) * 1000 / Tokens.Length;
    public double DecodeMsPerToken => Tokens.Length <= 1 ? 0 : DecodeSeconds * 1000 / (Tokens.Length - 1);
}

/// <summary>
/// Greedy decoding, one sequence or many in lock-step (batched decoding: each step is one forward
/// over every unfinished sequence). Stop strings need <paramref name="detokenize"/> to turn ids into text.
/// </summary>
public sealed class Generator(CausalLM model, Func<int[], string>? detokenize = null)
{
    public CausalLM Model { get; } = model;

    public GenerationResult Greedy(int[] prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        GreedyBatch([prompt], options, cancellationToken)[0];

    public IReadOnlyList<GenerationResult> GreedyBatch(IReadOnlyList<int[]> prompts, GenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new GenerationOptions();
        if (options.StopStrings.Count > 0 && detokenize == null)
            throw new InvalidOperationException("Stop strings need a tokenizer to decode the generated ids.");
        var stopTokens = new HashSet<int>(options.StopTokens);
        if (options.StopAtEos) stopTokens.UnionWith(Model.Config.EosTokenIds);
        int n = prompts.Count;
        var outputs = prompts.Select(_ => new List<int>()).ToArray();
        var reasons = new string?[n];
        var texts = new string?[n];
        var clock = Stopwatch.StartNew();
        if (n == 1 && Model.GreedyDecoder(prompts[0].Length + options.MaxNewTokens) is { } decoder)
            return [DecodeOnBackend(decoder, prompts[0], stopTokens, options, clock, cancellationToken)];
        var caches = prompts.Select(p => Model.NewCache(p.Length + options.MaxNewTokens)).ToArray();
        var pending = Enumerable.Range(0, n).Select(i => (Index: i, Tokens: prompts[i])).ToList();
        double prefill = 0;
        bool first = true;
        while (pending.Count > 0)
        {
            var next = Model.GreedyNext(pending.Select(p => new Segment(caches[p.Index], p.Tokens)).ToList(), cancellationToken);
            if (first) { prefill = clock.Elapsed.TotalSeconds; first = false; }
            var stillGoing = new List<(int, int[])>();
            for (int j = 0; j < pending.Count; j++)
            {
                int i = pending[j].Index;
                outputs[i].Add(next[j]);
                reasons[i] = Finished(outputs[i], next[j], stopTokens, options, out texts[i]);
                if (reasons[i] == null) stillGoing.Add((i, [next[j]]));
            }
            pending = stillGoing;
        }
        double total = clock.Elapsed.TotalSeconds;
        return Enumerable.Range(0, n).Select(i =>
            new GenerationResult(outputs[i].ToArray(), texts[i], reasons[i]!, prefill, total - prefill)).ToList();
    }

    /// <summary>One sequence through the backend's own greedy loop (CUDA: argmax on the device, one token back per step).</summary>
    private GenerationResult DecodeOnBackend(IGreedyDecoder decoder, int[] prompt, HashSet<int> stopTokens, GenerationOptions options,
        Stopwatch clock, CancellationToken cancellationToken)
    {
        var output = new List<int>();
        int token = decoder.First(prompt, options.MaxNewTokens, cancellationToken);
        double prefill = clock.Elapsed.TotalSeconds;
        string? text, reason;
        while (true)
        {
            output.Add(token);
            reason = Finished(output, token, stopTokens, options, out text);
            if (reason != null) break;
            cancellationToken.ThrowIfCancellationRequested();
            token = decoder.Next(token);
        }
        return new GenerationResult(output.ToArray(), text, reason, prefill, clock.Elapsed.TotalSeconds - prefill);
    }

    private string? Finished(List<int> output, int token, HashSet<int> stopTokens, GenerationOptions options, out string? text)
    {
        text = null;
        if (stopTokens.Contains(token))
        {
            output.RemoveAt(output.Count - 1);
            text = detokenize?.Invoke(output.ToArray());
            return "stop_token";
        }
        if (detokenize != null) text = detokenize(output.ToArray());
        if (text != null)
            foreach (var stop in options.StopStrings)
            {
                int at = text.IndexOf(stop, StringComparison.Ordinal);
                if (at >= 0) { text = text[..at]; return "stop_string"; }
            }
        return output.Count >= options.MaxNewTokens ? "length" : null;
    }
}
