using System.Text.Json.Nodes;
using EdgeLlm.Tokenization;

namespace EdgeLlm.Checkpoints;

/// <summary>
/// The embedded default for a first run on a machine with no models: the small trained Llama the
/// project ships in <c>data/demo-model</c> (copied beside the command line's binaries), or, where
/// that folder is absent, a Llama-layout checkpoint with random FP16 weights and a byte-level
/// tokenizer written on the spot (its text is noise, but every stage of the flow runs on it).
/// </summary>
public static class DemoModel
{
    /// <summary>The shipped trained demo model, looked up beside the binaries and then in the checkout's data/ folder.</summary>
    public static string? Shipped()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "demo-model"), Path.Combine(dir.FullName, "data", "demo-model") })
                if (File.Exists(Path.Combine(candidate, Checkpoint.ConfigFile)) && File.Exists(Path.Combine(candidate, "tokenizer.json")))
                    return candidate;
        }
        return null;
    }

    /// <summary>The shipped demo model, or else a random one created in <paramref name="directory"/>.</summary>
    public static string Locate(string? directory = null, IProgress<string>? progress = null) =>
        Shipped() ?? Ensure(directory, progress);

    public static string DefaultDirectory =>
        Path.Combine(Environment.GetEnvironmentVariable("EDGELLM_HOME")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "edgellm"), "demo-llama");

    /// <summary>Creates the random demo model in <paramref name="directory"/> unless a complete one is already there.</summary>
    public static string Ensure(string? directory = null, IProgress<string>? progress = null)
    {
        directory ??= DefaultDirectory;
        if (File.Exists(Path.Combine(directory, Checkpoint.ConfigFile)) && File.Exists(Path.Combine(directory, "tokenizer.json")))
            return directory;
        progress?.Report($"creating the demo model in {directory}");
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["hidden_size"] = 256, ["intermediate_size"] = 704, ["num_hidden_layers"] = 4,
            ["num_attention_heads"] = 8, ["num_key_value_heads"] = 4, ["head_dim"] = 32,
            ["vocab_size"] = 257, ["max_position_embeddings"] = 1024, ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0, ["tie_word_embeddings"] = false, ["hidden_act"] = "silu",
            ["bos_token_id"] = 256, ["eos_token_id"] = 256,
        };
        RandomCheckpoint.Create(config, directory, DType.F16, seed: 7);
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer.json"), ByteLevelTokenizerJson());
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer_config.json"),
            new JsonObject { ["bos_token"] = "<|endoftext|>", ["eos_token"] = "<|endoftext|>", ["add_bos_token"] = true }.ToJsonString());
        return directory;
    }

    private static string ByteLevelTokenizerJson()
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteLevelAlphabet.ByteToChar[b].ToString()] = b;
        var byteLevel = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject
            {
                ["id"] = 256, ["content"] = "<|endoftext|>", ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = byteLevel.DeepClone(),
            ["post_processor"] = null,
            ["decoder"] = byteLevel.DeepClone(),
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray() },
        }.ToJsonString();
    }
}
