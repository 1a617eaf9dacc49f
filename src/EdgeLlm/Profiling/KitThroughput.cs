using System.Diagnostics;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Profiling;

/// <summary>What <see cref="KitThroughput.Measure"/> runs: the starting kit's defaults (2,000 tokens, 500 forwards at batch 1).</summary>
/// <remarks>TextFile: the text padded or cut to <see cref="InputTokens"/> (the kit uses a Wikipedia article, not shared here);
/// null: BOS then padding. NewTokens: the greedy response whose TPOT is reported beside the kit's figures.</remarks>
public sealed record KitThroughputOptions
{
    public string? TextFile { get; init; }
    public int Repeats { get; init; } = 500;
    public int InputTokens { get; init; } = 2000;
    public int NewTokens { get; init; } = 16;
}

/// <summary>The kit's two figures measured on this engine, their definitions, our TPOT beside them, and what the kit's script gets wrong.</summary>
public sealed record KitThroughputResult
{
    public required string Model { get; init; }
    public required string Device { get; init; }
    public required long Parameters { get; init; }
    /// <summary>Bytes of the weights as this engine holds them (their stored dtype).</summary>
    public required long WeightBytes { get; init; }
    /// <summary>Bytes the kit's float32 load gives the same weights: parameters × 4.</summary>
    public required long KitFloat32WeightBytes { get; init; }
    public required string? TextFile { get; init; }
    public required int InputTokens { get; init; }
    /// <summary>Tokens of the text (BOS included) before padding, at most <see cref="InputTokens"/>.</summary>
    public required int TextTokens { get; init; }
    public required int Repeats { get; init; }
    /// <summary>Each full forward's wall time, in order.</summary>
    public required IReadOnlyList<double> ForwardSeconds { get; init; }
    public double MeanForwardSeconds => ForwardSeconds.Average();
    public double MedianForwardSeconds => Statistics.Median(ForwardSeconds.ToList());
    /// <summary>The kit's "Throughput: … inferences/second": batch (1) / mean forward time.</summary>
    public double ForwardsPerSecond => 1 / MeanForwardSeconds;
    public double MedianForwardsPerSecond => 1 / MedianForwardSeconds;
    /// <summary>Peak memory over the repeats (see <see cref="MemoryDefinition"/>); the kit prints it ÷ 1024² as "MB".</summary>
    public required long PeakMemoryBytes { get; init; }
    public double PeakMemoryMiB => PeakMemoryBytes / (1024.0 * 1024.0);
    public required string MemoryDefinition { get; init; }
    public required double TpotMs { get; init; }
    public required double DecodeMsPerToken { get; init; }
    public required int TpotPromptTokens { get; init; }
    public required int TpotNewTokens { get; init; }

    public string ThroughputDefinition =>
        "forwards_per_second = 1 / mean wall time of one full forward (batch 1, input_tokens positions, logits for every position, a new KV cache each time), " +
        "as the kit's throughput = batch_size / average_inference_time; here a forward ends when its logits are on the host";
    public string KitMemoryDefinition =>
        "the kit: mean over repeats of torch.cuda.max_memory_allocated(), a high-water mark never reset, so the peak of PyTorch's own allocations " +
        "(float32 weights, activations, logits; no CUDA context) since the model was loaded, printed ÷ 1024² as MB";
    public string TpotDefinition => "tpot_ms = (prefill + decode wall time of one greedy response) / new tokens, prefill included (the challenge's TPOT)";

    public IReadOnlyList<string> KitScriptNotes =>
    [
        "The kit's end timestamp is taken when model(**inputs) returns, before torch.cuda.synchronize(): CUDA kernels run asynchronously, so its time is " +
        "how long the host took to queue the forward (plus any synchronisation inside it), not how long the GPU took, and its inferences/second " +
        "overstates the GPU's rate whenever queueing outruns the kernels. It also averages the first, cold forward in with no warm-up.",
        $"The kit loads the model in float32 (from_pretrained's default): {KitFloat32WeightBytes} bytes of weights where this engine keeps the stored " +
        $"{WeightBytes} and never makes a float32 copy, so the memory figures differ by design.",
        "The kit's text is the first article of Wikipedia 20220301.en, tokenized with BOS and padded or truncated to 2,000 tokens; the ids do not change " +
        "a forward's work, so any text (or none) measures the same forward.",
    ];
}

/// <summary>
/// The NeurIPS 2024 Edge-Device LLM starting kit's GPU measurement (EvaluateThrougthputAndMemory.py) reproduced on this engine:
/// one text padded or cut to 2,000 tokens, 500 full forward passes at batch 1, forwards per second and peak memory,
/// with the kit's definitions, on the CPU or a CUDA device.
/// </summary>
public static class KitThroughput
{
    public static KitThroughputResult Measure(string modelFolder, EngineOptions? engine, KitThroughputOptions options, IProgress<string>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var tokenizer = Tokenizers.Load(modelFolder);
        var text = options.TextFile is null ? "" : File.ReadAllText(options.TextFile);
        using var model = CausalLM.Load(modelFolder, engine);
        return Measure(model, tokenizer, text, options, progress, cancellationToken) with { TextFile = options.TextFile };
    }

    /// <summary>
    /// The kit's input: <paramref name="text"/> encoded with the tokenizer's special tokens, cut to <paramref name="length"/>, padded on the
    /// right to it with EOS (the kit's pad token when the tokenizer has none; right padding as its tokenizer call does).
    /// </summary>
    public static (int[] Ids, int TextTokens) Input(ITokenizer tokenizer, string text, int length)
    {
        var ids = tokenizer.Encode(text, addSpecialTokens: true);
        if (ids.Length > length) ids = ids[..length];
        int pad = tokenizer.EosTokenId ?? tokenizer.BosTokenId ?? 0;
        return ([.. ids, .. Enumerable.Repeat(pad, length - ids.Length)], ids.Length);
    }

    public static KitThroughputResult Measure(CausalLM model, ITokenizer tokenizer, string text, KitThroughputOptions options,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        if (options.Repeats < 1) throw new ArgumentException($"--repeats must be at least 1 (got {options.Repeats}).");
        if (options.InputTokens < 1 || options.InputTokens > model.MaxContext)
            throw new ArgumentException($"{model.Checkpoint.Directory}: the model's context is {model.MaxContext} tokens, so an input of {options.InputTokens} " +
                "(the kit's 2000) does not fit; give --input-tokens at most the context.");
        var (ids, textTokens) = Input(tokenizer, text, options.InputTokens);
        var logits = new float[(long)ids.Length * model.VocabSize];
        var times = new List<double>(options.Repeats);
        var device = model.Device;
        bool cpu = device is null;
        if (device is null) ProcessMemory.ResetPeak();
        else device.ResetPeak();
        var clock = new Stopwatch();
        for (int r = 0; r < options.Repeats; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var cache = model.NewCache(ids.Length);
            clock.Restart();
            var hidden = model.ForwardHidden([new Segment(cache, ids)], cancellationToken);
            model.Logits(hidden, ids.Length, logits);
            times.Add(clock.Elapsed.TotalSeconds);
            if ((r + 1) % Math.Max(1, options.Repeats / 10) == 0) progress?.Report($"kit forward {r + 1}/{options.Repeats}: {times[^1] * 1000:F1} ms");
        }
        long peak = device?.PeakAllocatedBytes ?? ProcessMemory.PeakResidentBytes;
        int promptForTpot = Math.Min(ids.Length, model.MaxContext - options.NewTokens);
        var response = new Generator(model).Greedy(ids[..promptForTpot], new GenerationOptions { MaxNewTokens = options.NewTokens, StopAtEos = false },
            cancellationToken);
        long parameters = TensorLayout.ParameterCount(model.Config);
        return new KitThroughputResult
        {
            Model = model.Checkpoint.Directory, Device = device?.Describe(model.Options.Device) ?? "cpu", Parameters = parameters,
            WeightBytes = model.Checkpoint.WeightBytes, KitFloat32WeightBytes = parameters * 4, TextFile = null,
            InputTokens = ids.Length, TextTokens = textTokens, Repeats = options.Repeats, ForwardSeconds = times, PeakMemoryBytes = peak,
            MemoryDefinition = cpu
                ? "peak resident set (VmHWM) of this process over the repeats: the weights' pages read from the memory map, KV cache, activations, logits and the .NET runtime"
                : "the engine's peak of its own device allocations over the repeats (weights in their stored dtype, KV cache, scratch, logits; no CUDA context), the counterpart of max_memory_allocated",
            TpotMs = response.TpotMs, DecodeMsPerToken = response.DecodeMsPerToken, TpotPromptTokens = promptForTpot, TpotNewTokens = response.Tokens.Length,
        };
    }
}
