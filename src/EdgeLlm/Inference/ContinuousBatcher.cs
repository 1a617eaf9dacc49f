using System.Diagnostics;

namespace EdgeLlm.Inference;

/// <summary>
/// Continuous batching of greedy generation. Requests are taken from the input in order as room frees up: up to
/// <see cref="BatcherOptions.MaxBatch"/> sequences are in flight, each step is one <see cref="CausalLM.GreedyNext"/>
/// over every decoding sequence's last token plus at most <see cref="BatcherOptions.PrefillChunkTokens"/> prompt tokens
/// of newly admitted sequences (chunked prefill), and a sequence that finishes leaves at once, its result yielded
/// before the next step, so the next request is admitted in its place. Admission reserves the sequence's KV positions
/// (prompt + max new tokens, capped at the context) against <see cref="BatcherOptions.MaxKvTokens"/>. A sequence whose
/// prompt begins like one in flight waits until that one has prefilled the common part, then starts from a share of its
/// cache (<see cref="BatcherOptions.SharedPrefixMinTokens"/>).
/// Each sequence's tokens are what <see cref="Generator.GreedyBatch"/> gives it alone, up to float rounding order
/// (docs/evaluation.md, "How generation is scheduled"). Stop strings need <c>text</c>: a new
/// <see cref="IIncrementalText"/> per sequence, decoding its ids.
/// </summary>
public sealed class ContinuousBatcher
{
    private readonly CausalLM model;
    private readonly Func<IIncrementalText>? text;

    public ContinuousBatcher(CausalLM model, BatcherOptions? options = null, Func<IIncrementalText>? text = null)
    {
        Options = options ?? new BatcherOptions();
        if (Options.MaxBatch < 1) throw new ArgumentException($"The batch must hold at least one sequence (MaxBatch = {Options.MaxBatch}).", nameof(options));
        if (Options.PrefillChunkTokens < 1) throw new ArgumentException($"PrefillChunkTokens must be at least 1 (got {Options.PrefillChunkTokens}).", nameof(options));
        if (Options.MaxKvTokens is < 1) throw new ArgumentException($"MaxKvTokens must be at least 1 (got {Options.MaxKvTokens}).", nameof(options));
        if (Options.SharedPrefixMinTokens < 0) throw new ArgumentException($"SharedPrefixMinTokens must be 0 (off) or more (got {Options.SharedPrefixMinTokens}).", nameof(options));
        this.model = model;
        this.text = text;
    }

    public BatcherOptions Options { get; }

    /// <summary>KV positions the sequences in flight may reserve together.</summary>
    public long KvTokenBudget => Options.MaxKvTokens ?? (long)Options.MaxBatch * model.MaxContext;

    /// <summary>KV positions a request reserves: its prompt and max new tokens, at most the model's context.</summary>
    public int Reservation(SequenceRequest request) =>
        (int)Math.Min(model.MaxContext, (long)request.Prompt.Length + Math.Max(1, request.Options.MaxNewTokens));

    /// <summary>
    /// Generates every request, yielding each result as its sequence finishes (not in input order: see
    /// <see cref="SequenceResult.Index"/>). Requests are read lazily, one at a time, when there is room for them.
    /// </summary>
    public IEnumerable<SequenceResult> Run(IEnumerable<SequenceRequest> requests, IProgress<BatchProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        using var queue = requests.GetEnumerator();
        var clock = Stopwatch.StartNew();
        var active = new List<InFlight>();
        InFlight? waiting = null;
        bool drained = false;
        int nextIndex = 0, done = 0;
        long reserved = 0, promptTokens = 0, generated = 0, shared = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            while (active.Count < Options.MaxBatch)
            {
                if (waiting == null)
                {
                    if (drained || !queue.MoveNext()) { drained = true; break; }
                    waiting = Admit(queue.Current, nextIndex++);
                }
                if (reserved + waiting.Reserved > KvTokenBudget && active.Count > 0) break;
                waiting.Start(clock.Elapsed.TotalSeconds, model, Donor(waiting.Request.Prompt, active));
                reserved += waiting.Reserved;
                active.Add(waiting);
                waiting = null;
            }
            if (active.Count == 0) yield break;
            shared += AttachShares(active);

            var step = Plan(active);
            var next = model.GreedyNext(step.Select(s => s.Segment).ToList(), cancellationToken);
            double now = clock.Elapsed.TotalSeconds;
            var finished = new List<InFlight>();
            for (int j = 0; j < step.Count; j++)
            {
                var (sequence, segment) = step[j];
                if (!sequence.Decoding)
                {
                    sequence.Prefilled += segment.Tokens.Length;
                    promptTokens += segment.Tokens.Length;
                    if (!sequence.Decoding) continue; // more of its prompt to go: this row's token is not a prediction yet
                    sequence.FirstToken = now;
                }
                int before = sequence.Stop.Output.Count;
                if (sequence.Take(next[j], model.MaxContext)) finished.Add(sequence);
                generated += sequence.Stop.Output.Count - before;
            }
            shared += AttachShares(active); // before a finished donor leaves
            foreach (var sequence in finished)
            {
                active.Remove(sequence);
                reserved -= sequence.Reserved;
                done++;
            }
            progress?.Report(new BatchProgress(done, active.Count, promptTokens, generated, now, shared));
            foreach (var sequence in finished) yield return sequence.Result(now);
        }
    }

    /// <summary>
    /// The sequence in flight whose prompt shares the longest start with <paramref name="prompt"/>, and how many tokens
    /// (at most all but the prompt's last, which must run to predict), when that is at least
    /// <see cref="BatcherOptions.SharedPrefixMinTokens"/>.
    /// </summary>
    private (InFlight Sequence, int Tokens)? Donor(int[] prompt, List<InFlight> active)
    {
        if (Options.SharedPrefixMinTokens == 0) return null;
        (InFlight, int)? best = null;
        foreach (var s in active)
        {
            int common = prompt.AsSpan(0, prompt.Length - 1).CommonPrefixLength(s.Request.Prompt);
            if (common >= Options.SharedPrefixMinTokens && common > (best?.Item2 ?? 0)) best = (s, common);
        }
        return best;
    }

    /// <summary>Sequences waiting for a donor that has now prefilled the common part start from a share of its cache; returns the prompt tokens so taken.</summary>
    private static long AttachShares(List<InFlight> active)
    {
        long taken = 0;
        foreach (var s in active)
            if (s.Cache == null && s.Donor!.Prefilled >= s.SharedTokens) taken += s.Attach();
        return taken;
    }

    /// <summary>This step's segments: every decoding sequence's pending token, then prompt chunks in admission order (sequences waiting for a donor's prefix skipped).</summary>
    private List<(InFlight Sequence, Segment Segment)> Plan(List<InFlight> active)
    {
        var step = new List<(InFlight, Segment)>();
        foreach (var s in active)
            if (s.Decoding) step.Add((s, new Segment(s.Cache!, [s.Pending])));
        int budget = Options.PrefillChunkTokens;
        foreach (var s in active)
        {
            if (s.Decoding || s.Cache == null || budget == 0) continue;
            int take = Math.Min(budget, s.Request.Prompt.Length - s.Prefilled);
            step.Add((s, new Segment(s.Cache!, s.Request.Prompt[s.Prefilled..(s.Prefilled + take)])));
            budget -= take;
        }
        return step;
    }

    private InFlight Admit(SequenceRequest request, int index)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Prompt.Length == 0) throw new ArgumentException($"Request {index} has an empty prompt: greedy generation needs at least one token.");
        if (request.Prompt.Length > model.MaxContext)
            throw new ArgumentException($"Request {index}: a prompt of {request.Prompt.Length} tokens exceeds the model's context of {model.MaxContext}.");
        foreach (var t in request.Prompt)
            if ((uint)t >= (uint)model.VocabSize) throw new ArgumentException($"Request {index}: token id {t} is outside the vocabulary of {model.VocabSize}.");
        if (request.Options.StopStrings.Count > 0 && text == null)
            throw new InvalidOperationException("Stop strings need a detokenizer: give the batcher a text factory.");
        int reserve = Reservation(request);
        if (reserve > KvTokenBudget)
            throw new ArgumentException($"Request {index} needs {reserve} KV positions (prompt {request.Prompt.Length} + new tokens), more than the budget of {KvTokenBudget} (MaxKvTokens).");
        var stopTokens = new HashSet<int>(request.Options.StopTokens);
        if (request.Options.StopAtEos) stopTokens.UnionWith(model.Config.EosTokenIds);
        return new InFlight(index, request, reserve, new StopRule(request.Options, stopTokens, text?.Invoke()));
    }

    private sealed class InFlight(int index, SequenceRequest request, int reserved, StopRule stop)
    {
        public SequenceRequest Request { get; } = request;
        public int Reserved { get; } = reserved;
        public StopRule Stop { get; } = stop;
        public KvCache? Cache { get; private set; }
        public int Prefilled { get; set; }
        /// <summary>The sequence whose cache this one starts from, until it has <see cref="SharedTokens"/> positions to share.</summary>
        public InFlight? Donor { get; private set; }
        public int SharedTokens { get; private set; }
        public int Pending { get; private set; }
        public double Admitted { get; private set; }
        public double FirstToken { get; set; }
        public bool Decoding => Prefilled == Request.Prompt.Length;

        public void Start(double now, CausalLM model, (InFlight Sequence, int Tokens)? donor)
        {
            Admitted = now;
            if (donor is var (sequence, tokens)) { Donor = sequence; SharedTokens = tokens; }
            else Cache = model.NewCache(Reserved);
        }

        /// <summary>Takes the donor's first <see cref="SharedTokens"/> positions as this sequence's own prefilled prompt.</summary>
        public int Attach()
        {
            Cache = Donor!.Cache!.SharePrefix(SharedTokens, Reserved);
            Prefilled = SharedTokens;
            Donor = null;
            return SharedTokens;
        }

        /// <summary>Takes a predicted token; true when the sequence has finished (stop rule, or no room left in the context).</summary>
        public bool Take(int token, int context)
        {
            if (Stop.Take(token)) return true;
            Pending = token;
            return Cache!.Length + 1 > context && Stop.Finish("context", Stop.CurrentText);
        }

        public SequenceResult Result(double now)
        {
            Cache = null; // the KV memory goes with the sequence
            return new SequenceResult(index, Stop.Output.ToArray(), Stop.Text, Stop.Reason!, Request.Prompt.Length, FirstToken - Admitted, now - Admitted);
        }
    }
}
