using EdgeLlm.Checkpoints;

namespace EdgeLlm.Tests.Profiling;

/// <summary>Parameter counts as the challenge reports them (the models' published counts), from the real configs' shapes.</summary>
public class ParameterCountTests
{
    private static long Count(string preset) => TensorLayout.ParameterCount(ModelConfig.Parse(ModelPresets.Config(preset)));

    [Fact]
    public void Phi2()
    {
        // d 2560, ffn 10240, 32 layers, vocab 51200, untied head with bias; every linear and LayerNorm has a bias.
        // layer: 2 LN (2·2560) + q,k,v,dense 4·(2560² + 2560) + fc1 (10240·2560 + 10240) + fc2 (2560·10240 + 2560)
        //      = 5,120 + 26,224,640 + 26,224,640 + 26,216,960 = 78,671,360; · 32 = 2,517,483,520
        // + embed 131,072,000 + head 131,072,000 + head bias 51,200 + final LN 5,120 = 2,779,683,840
        Assert.Equal(2_779_683_840L, Count("phi-2"));
    }

    [Fact]
    public void Llama3_8B()
    {
        // d 4096, ffn 14336, 32 layers, 8 KV heads × 128, vocab 128256, untied.
        // layer: q 16,777,216 + k,v 2·4,194,304 + o 16,777,216 + mlp 3·58,720,256 + 2 norms 8,192 = 218,112,000; · 32 = 6,979,584,000
        // + embed 525,336,576 + head 525,336,576 + final norm 4,096 = 8,030,261,248
        Assert.Equal(8_030_261_248L, Count("llama-3-8b"));
    }

    [Fact]
    public void Qwen7B()
    {
        // d 4096, intermediate_size 22016 = two 11008 branches, 32 layers, vocab 151936, untied.
        // layer: c_attn 3·4096² + 3·4096 bias = 50,343,936; c_proj 16,777,216; w1, w2 2·45,088,768; mlp c_proj 45,088,768;
        //        2 RMSNorms 8,192 → 202,395,648; · 32 = 6,476,660,736
        // + wte 622,329,856 + lm_head 622,329,856 + ln_f 4,096 = 7,721,324,544
        Assert.Equal(7_721_324_544L, Count("qwen-7b"));
    }

    [Fact]
    public void TiedEmbeddingCountsOnce()
    {
        // Tying Llama-3-8B's head to its embedding removes one 128256 × 4096 matrix: 8,030,261,248 − 525,336,576.
        var raw = ModelPresets.Config("llama-3-8b");
        raw["tie_word_embeddings"] = true;
        Assert.Equal(7_504_924_672L, TensorLayout.ParameterCount(ModelConfig.Parse(raw)));
    }
}
