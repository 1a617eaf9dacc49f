namespace EdgeLlm.Inference;

/// <summary>
/// When one greedy sequence ends, exactly as <see cref="Generator"/> decides: a stop token ends it (and is not kept); else
/// the first stop string (in the options' order) found in the decoded output ends it, the text cut before it; else
/// max new tokens. Stop strings are looked for only where the new token can have made one appear: a match must end
/// after the text that was already stable (<see cref="IIncrementalText.StableLength"/>), since that text held none.
/// </summary>
internal sealed class StopRule(GenerationOptions options, HashSet<int> stopTokens, IIncrementalText? text)
{
    private readonly int longestStop = options.StopStrings.Count == 0 ? 0 : options.StopStrings.Max(s => s.Length);

    public List<int> Output { get; } = [];
    public string? Reason { get; private set; }
    public string? Text { get; private set; }

    /// <summary>Takes the next greedy token; true when the sequence has finished.</summary>
    public bool Take(int token)
    {
        if (stopTokens.Contains(token)) return Finish("stop_token", text?.TextFrom(0));
        Output.Add(token);
        if (text != null)
        {
            int stableBefore = text.StableLength;
            text.Append(token);
            if (options.StopStrings.Count > 0)
            {
                int from = Math.Max(0, stableBefore - longestStop + 1);
                var tail = text.TextFrom(from);
                foreach (var stop in options.StopStrings)
                {
                    int at = stop.Length == 0 ? 0 : tail.IndexOf(stop, StringComparison.Ordinal);
                    if (at >= 0) return Finish("stop_string", text.TextFrom(0)[..(stop.Length == 0 ? 0 : from + at)]);
                }
            }
        }
        return Output.Count >= options.MaxNewTokens && Finish("length", text?.TextFrom(0));
    }

    /// <summary>Ends the sequence for a reason of the caller's (the context is full).</summary>
    public bool Finish(string reason, string? finalText)
    {
        Reason = reason;
        Text = finalText;
        return true;
    }

    public string? CurrentText => text?.TextFrom(0);
}
