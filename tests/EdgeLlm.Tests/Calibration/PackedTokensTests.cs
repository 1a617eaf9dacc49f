using System.Text.Json;
using EdgeLlm.Calibration;
using EdgeLlm.Tokenization;
using EdgeLlm.Tests.Support;

namespace EdgeLlm.Tests.Calibration;

public class PackedTokensTests : TempDirectoryTest
{

    [Fact]
    public void AlpacaRecordsPackIntoSequencesOfTheirTokensWithEosBetween()
    {
        var alpaca = Path.Combine(Temp, "alpaca.json");
        File.WriteAllText(alpaca, JsonSerializer.Serialize(new[]
        {
            new { instruction = "把这句话翻译成英文。", input = "今天天气很好。", output = "The weather is nice today." },
            new { instruction = "Give three tips for staying healthy.", input = "", output = "1. Eat well. 2. Sleep. 3. Move." },
            new { instruction = "列出三种水果。", input = "", output = "苹果、香蕉、橙子。" },
        }));
        var tokenizer = Tokenizers.Load(SharedData.Path("fixtures", "trained", "llama-pydoc"));
        var docs = TextDocuments.Read(alpaca);
        var reports = new List<StageProgress>();
        var packed = PackedTokens.Pack(docs, tokenizer, 16, Path.Combine(Temp, "packed"), ["alpaca.json"], new InlineProgress<StageProgress>(reports.Add));
        Assert.Equal([new StageProgress("tokenizing", 3, 3, "documents")], reports);   // fewer than 256 documents: the last only

        // The reference stream: each rendered record's tokens, then EOS; cut into 16-token rows, the tail dropped.
        var stream = docs.SelectMany(d => tokenizer.Encode(d).Append(tokenizer.EosTokenId!.Value)).ToArray();
        Assert.Equal(stream.Length / 16, packed.Sequences);
        Assert.Equal(stream.Length % 16, packed.DroppedTokens);
        for (int i = 0; i < packed.Sequences; i++)
            Assert.Equal(stream[(i * 16)..((i + 1) * 16)], PackedTokens.ReadSequence(packed.Directory, i));
        Assert.Equal(packed.Sequences * 16 * 4, new FileInfo(Path.Combine(packed.Directory, PackedTokens.TokenFile)).Length);
        Assert.StartsWith("Below is an instruction that describes a task, paired with an input", docs[0]);
        Assert.EndsWith("### Response:\nThe weather is nice today.", docs[0]);
    }

    [Fact]
    public void AFileThatDisagreesWithItsIndexIsReported()
    {
        var tokenizer = Tokenizers.Load(SharedData.Path("fixtures", "trained", "llama-pydoc"));
        var packed = PackedTokens.Pack(["a b c d e f g h i j k l m n o p q r s t"], tokenizer, 4, Path.Combine(Temp, "p"));
        var tokens = Path.Combine(packed.Directory, PackedTokens.TokenFile);
        File.WriteAllBytes(tokens, File.ReadAllBytes(tokens)[..^4]);
        var e = Assert.Throws<FormatException>(() => PackedTokens.ReadSequence(packed.Directory, 0));
        Assert.Contains(tokens, e.Message);
    }

}
