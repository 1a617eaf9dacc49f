using System.Text.Json.Nodes;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference;
using static EdgeLlm.Tests.Checkpoints.TestFiles;

namespace EdgeLlm.Tests.Checkpoints;

/// <summary>
/// Malformed files and folders, each built by the test itself: every one must fail with a
/// <see cref="CheckpointFormatException"/> naming the file and the specific problem.
/// </summary>
public class BadInputTests
{
    private const string OneF32 = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";

    [Fact]
    public void FileShorterThanEightBytes()
    {
        using var dir = new TempDir();
        var path = dir.Path("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        AssertFormatError(() => SafeTensorsFile.Open(path), path, "5 bytes", "too short");
    }

    [Fact]
    public void HeaderLengthPastEndOfFile()
    {
        using var dir = new TempDir();
        var path = dir.Path("long-header.safetensors");
        File.WriteAllBytes(path, Raw(OneF32, new byte[8], declaredLength: 4096));
        AssertFormatError(() => SafeTensorsFile.Open(path), path, "header length 4096", "past the end of the file");
    }

    [Fact]
    public void HeaderNotJson()
    {
        using var dir = new TempDir();
        var path = WriteRaw(dir, "{\"a\": {\"dtype\": F32", []);
        AssertFormatError(() => SafeTensorsFile.Open(path), path, "header is not valid JSON");
    }

    [Fact]
    public void HeaderJsonButNotAnObject()
    {
        using var dir = new TempDir();
        var path = WriteRaw(dir, "[1, 2, 3]", []);
        AssertFormatError(() => SafeTensorsFile.Open(path), path, "not a JSON object");
    }

    /// <summary>F8_E4M3 is a real safetensors dtype, but not one EdgeLlm reads: it must be reported, not misread.</summary>
    [Fact]
    public void UnknownDtype()
    {
        using var dir = new TempDir();
        var path = WriteRaw(dir, """{"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}""", new byte[4]);
        AssertFormatError(() => SafeTensorsFile.Open(path), path, "tensor 'w'", "unknown dtype 'F8_E4M3'");
    }

    [Fact]
    public void ShapeDoesNotMatchDataOffsets()
    {
        using var dir = new TempDir();
        var path = WriteRaw(dir, """{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}""", new byte[20]);
        AssertFormatError(() => SafeTensorsFile.Open(path), path, "tensor 'w'", "needs 24 bytes", "span 20");
    }

    [Fact]
    public void DataOffsetsPastEndOfTruncatedFile()
    {
        using var dir = new TempDir();
        var path = dir.Path("model.safetensors");
        SafeTensorsWriter.Write(path, [
            TensorData.FromFloats("first", [4], [1, 2, 3, 4], DType.F32),
            TensorData.FromFloats("second", [2, 2], [5, 6, 7, 8], DType.F32),
        ]);
        using (var s = SafeTensorsFile.Open(path)) Assert.Equal(2, s.Tensors.Count);
        using (var fs = new FileStream(path, FileMode.Open)) fs.SetLength(fs.Length - 6);
        AssertFormatError(() => SafeTensorsFile.Open(path), path, "tensor 'second'", "data_offsets [16, 32]", "truncated");
    }

    [Fact]
    public void OverlappingTensors()
    {
        using var dir = new TempDir();
        var path = WriteRaw(dir, """
            {"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},
             "b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}
            """, new byte[24]);
        AssertFormatError(() => SafeTensorsFile.Open(path), path, "'a'", "'b'", "overlap");
    }

    /// <summary>Header values of the wrong JSON kind must not escape as InvalidOperation/Overflow exceptions.</summary>
    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}}""", "data_offsets")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,null]}}""", "data_offsets")]
    [InlineData("""{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}""", "shape")]
    [InlineData("""{"w":{"dtype":"F32","shape":"4","data_offsets":[0,4]}}""", "shape")]
    [InlineData("""{"w":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}""", "dtype")]
    [InlineData("""{"w":[1,2]}""", "not an object")]
    [InlineData("""{"__metadata__":[1],"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "__metadata__")]
    public void MalformedHeaderValues(string header, string fragment)
    {
        using var dir = new TempDir();
        var path = WriteRaw(dir, header, new byte[4]);
        AssertFormatError(() => SafeTensorsFile.Open(path), path, fragment);
    }

    // ---- model folders ----

    /// <summary>A folder with the llama-float32 config and two tiny tensors in two shards plus an index.</summary>
    private static (string IndexPath, string[] Shards) ShardedFolder(TempDir dir, bool writeSecondShard = true, bool listExtra = false)
    {
        File.Copy(Path.Combine(HfTiny("llama-float32"), "config.json"), dir.Path("config.json"));
        string s1 = "model-00001-of-00002.safetensors", s2 = "model-00002-of-00002.safetensors";
        SafeTensorsWriter.Write(dir.Path(s1), [TensorData.FromFloats("a", [2], [1, 2], DType.F32)]);
        if (writeSecondShard) SafeTensorsWriter.Write(dir.Path(s2), [TensorData.FromFloats("b", [2], [3, 4], DType.F32)]);
        var weightMap = new JsonObject { ["a"] = s1, ["b"] = s2 };
        if (listExtra) weightMap["ghost"] = s2;
        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 16 }, ["weight_map"] = weightMap };
        File.WriteAllText(dir.Path(Checkpoint.IndexFile), index.ToJsonString());
        return (dir.Path(Checkpoint.IndexFile), [dir.Path(s1), dir.Path(s2)]);
    }

    [Fact]
    public void ShardNamedByIndexIsMissing()
    {
        using var dir = new TempDir();
        var (index, _) = ShardedFolder(dir, writeSecondShard: false);
        AssertFormatError(() => Checkpoint.Open(dir.Directory), index, "model-00002-of-00002.safetensors", "missing");
    }

    [Fact]
    public void TensorListedInIndexButAbsentFromShard()
    {
        using var dir = new TempDir();
        var (_, shards) = ShardedFolder(dir, listExtra: true);
        AssertFormatError(() => Checkpoint.Open(dir.Directory), shards[1], "tensor 'ghost'", "not stored in this shard");
    }

    [Fact]
    public void ValidShardedFolderOpens()
    {
        using var dir = new TempDir();
        ShardedFolder(dir);
        using var ckpt = Checkpoint.Open(dir.Directory);
        Assert.Equal([3f, 4f], ckpt["b"].ToFloatArray());
        Assert.Equal(2, ckpt.Files.Count);
    }

    [Theory]
    [InlineData("""{"weight_map":{"a":5}}""", "weight_map entry 'a'")]
    [InlineData("""{"weight_map":{"a":null}}""", "weight_map entry 'a'")]
    [InlineData("""{"metadata":{}}""", "weight_map")]
    [InlineData("""{"weight_map":{"a":"../elsewhere.safetensors"}}""", "weight_map entry 'a'")]
    [InlineData("""{"weight_map":""", "not valid JSON")]
    public void MalformedIndex(string indexJson, string fragment)
    {
        using var dir = new TempDir();
        var (index, _) = ShardedFolder(dir);
        File.WriteAllText(index, indexJson);
        AssertFormatError(() => Checkpoint.Open(dir.Directory), index, fragment);
    }

    [Fact]
    public void MissingTensorThroughIndexerAndExpect()
    {
        using var dir = new TempDir();
        ShardedFolder(dir);
        using var ckpt = Checkpoint.Open(dir.Directory);
        AssertFormatError(() => _ = ckpt["model.norm.weight"], dir.Directory, "tensor 'model.norm.weight'", "missing");
        AssertFormatError(() => ckpt.Expect("model.norm.weight", 128), dir.Directory, "tensor 'model.norm.weight'", "missing");
        Assert.Null(ckpt.TryGet("model.norm.weight"));
    }

    [Fact]
    public void TensorWithWrongShapeVersusConfig()
    {
        using var dir = new TempDir();
        var (_, shards) = ShardedFolder(dir);
        using var ckpt = Checkpoint.Open(dir.Directory);
        AssertFormatError(() => ckpt.Expect("b", 3), shards[1], "tensor 'b'", "shape [2]", "implies [3]");
        AssertFormatError(() => ckpt.Expect("b", 2, 1), shards[1], "tensor 'b'", "shape [2]", "implies [2, 1]");
        Assert.Same(ckpt["b"], ckpt.Expect("b", 2));
    }

    [Fact]
    public void ConfigJsonMissing()
    {
        using var dir = new TempDir();
        SafeTensorsWriter.Write(dir.Path(Checkpoint.SingleFile), [TensorData.FromFloats("a", [1], [1], DType.F32)]);
        AssertFormatError(() => Checkpoint.Open(dir.Directory), dir.Path("config.json"), "config.json is missing");
    }

    [Fact]
    public void NoWeightsInFolder()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(HfTiny("llama-float32"), "config.json"), dir.Path("config.json"));
        AssertFormatError(() => Checkpoint.Open(dir.Directory), dir.Directory, Checkpoint.SingleFile, Checkpoint.IndexFile);
    }

    private static string ConfigWith(TempDir dir, string fixture, Action<JsonObject> edit)
    {
        var config = ReadConfig(HfTiny(fixture));
        edit(config);
        WriteConfig(dir.Directory, config);
        return dir.Path("config.json");
    }

    [Theory]
    [InlineData("llama-float32", "hidden_size")]
    [InlineData("llama-float32", "num_attention_heads")]
    [InlineData("llama-float32", "vocab_size")]
    [InlineData("llama-float32", "rms_norm_eps")]
    [InlineData("phi-float32", "layer_norm_eps")]
    [InlineData("qwen2-float32", "num_hidden_layers")]
    [InlineData("qwen2-float32", "architectures")]
    public void ConfigFieldMissing(string fixture, string field)
    {
        using var dir = new TempDir();
        var path = ConfigWith(dir, fixture, c => Assert.True(c.Remove(field)));
        AssertFormatError(() => ModelConfig.Load(path), path, $"field '{field}' is missing");
    }

    [Fact]
    public void UnsupportedArchitecture()
    {
        using var dir = new TempDir();
        var path = ConfigWith(dir, "llama-float32", c => c["architectures"] = new JsonArray("GemmaForCausalLM"));
        AssertFormatError(() => ModelConfig.Load(path), path, "architecture 'GemmaForCausalLM' is not supported");
    }

    [Fact]
    public void UnsupportedRopeScalingType()
    {
        using var dir = new TempDir();
        var path = ConfigWith(dir, "llama-float32", c => c["rope_parameters"] = new JsonObject
        {
            ["rope_theta"] = 500000.0, ["rope_type"] = "yarn", ["factor"] = 4.0,
            ["original_max_position_embeddings"] = 512,
        });
        AssertFormatError(() => ModelConfig.Load(path), path, "rope scaling type 'yarn' is not supported");
    }

    [Fact]
    public void UnsupportedRopeScalingTypeInOlderTopLevelLayout()
    {
        using var dir = new TempDir();
        var path = ConfigWith(dir, "llama-float32", c =>
        {
            c.Remove("rope_parameters");
            c["rope_theta"] = 500000.0;
            c["rope_scaling"] = new JsonObject { ["type"] = "dynamic", ["factor"] = 2.0 };
        });
        AssertFormatError(() => ModelConfig.Load(path), path, "rope scaling type 'dynamic' is not supported");
    }

    /// <summary>Fields of the wrong JSON kind or impossible values must be reported with the field, not as raw exceptions.</summary>
    [Theory]
    [InlineData("""{"architectures":[42]}""", "architectures")]
    [InlineData("""{"rope_parameters":{"rope_theta":"big","rope_type":"default"}}""", "rope_theta")]
    [InlineData("""{"rope_parameters":{"rope_theta":10000.0,"rope_type":7}}""", "rope_type")]
    [InlineData("""{"rope_parameters":{"rope_theta":10000.0,"rope_type":"linear","factor":"x"}}""", "factor")]
    [InlineData("""{"rope_parameters":{"rope_theta":10000.0,"rope_type":"llama3","factor":8.0}}""", "low_freq_factor")]
    [InlineData("""{"eos_token_id":[2,null]}""", "eos_token_id")]
    [InlineData("""{"eos_token_id":["2"]}""", "eos_token_id")]
    [InlineData("""{"hidden_size":"128"}""", "hidden_size")]
    [InlineData("""{"num_attention_heads":0}""", "num_attention_heads")]
    [InlineData("""{"num_hidden_layers":-1}""", "num_hidden_layers")]
    [InlineData("""{"vocab_size":0}""", "vocab_size")]
    public void ConfigFieldsOfWrongKind(string patch, string fragment)
    {
        using var dir = new TempDir();
        var path = ConfigWith(dir, "llama-float32", c =>
        {
            foreach (var (k, v) in (JsonObject)JsonNode.Parse(patch)!) c[k] = v?.DeepClone();
        });
        AssertFormatError(() => ModelConfig.Load(path), path, fragment);
    }

    [Fact]
    public void ConfigJsonNotJson()
    {
        using var dir = new TempDir();
        var path = dir.Path("config.json");
        File.WriteAllText(path, "{ \"hidden_size\": ");
        AssertFormatError(() => ModelConfig.Load(path), path, "not valid JSON");
    }

    /// <summary>config.json says 3 layers; the weights stop after 2: loading names the first missing tensor.</summary>
    [Fact]
    public void CausalLMLoadWithFewerLayersThanConfig()
    {
        using var dir = new TempDir();
        using (var source = Checkpoint.Open(HfTiny("llama-float32")))
        {
            Assert.Equal(3, source.Config.NumLayers);
            var kept = source.Tensors.Values.Where(t => !t.Name.StartsWith("model.layers.2.", StringComparison.Ordinal))
                .Select(t => TensorData.FromView(t)).ToList();
            CheckpointWriter.Save(dir.Directory, source.Config.Raw, kept);
        }
        AssertFormatError(() => CausalLM.Load(dir.Directory), dir.Directory,
            "tensor 'model.layers.2.input_layernorm.weight'", "missing");
    }

    /// <summary>A matrix stored with transposed shape is caught by the engine's shape checks.</summary>
    [Fact]
    public void CausalLMLoadWithTransposedMatrix()
    {
        using var dir = new TempDir();
        using (var source = Checkpoint.Open(HfTiny("llama-float32")))
        {
            var tensors = source.Tensors.Values.Select(t =>
            {
                if (t.Name != "model.layers.1.mlp.down_proj.weight") return TensorData.FromView(t);
                return TensorData.FromBytes(t.Name, [t.Shape[1], t.Shape[0]], t.DType, t.Bytes.ToArray());
            }).ToList();
            CheckpointWriter.Save(dir.Directory, source.Config.Raw, tensors);
        }
        AssertFormatError(() => CausalLM.Load(dir.Directory), dir.Path(Checkpoint.SingleFile),
            "tensor 'model.layers.1.mlp.down_proj.weight'", "shape [344, 128]", "implies [128, 344]");
    }
}
