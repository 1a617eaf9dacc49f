using EdgeLlm.Evaluation;
using EdgeLlm.Evaluation.Tasks;
using EdgeLlm.Tests.Support;
using Parquet;

namespace EdgeLlm.Tests.Evaluation;

/// <summary>
/// The Hub's parquet files give exactly the samples the published JSON-lines/CSV files give for the same
/// rows. The parquet fixtures (References/parquet, first 10 rows of each shared file, several row groups)
/// were written by pyarrow (tools/reference/make_parquet_fixtures.py), not by the library EdgeLlm reads with.
/// </summary>
public class ParquetDatasetTests : TempDirectoryTest
{
    private static string Fixture(params string[] parts) => SharedData.Reference(["parquet", .. parts]);

    private static readonly string CsqaParquet = Fixture("commonsense_qa", "data", "validation-00000-of-00001.parquet");
    private static readonly string Gsm8kParquet = Fixture("gsm8k", "main", "test-00000-of-00001.parquet");
    private static readonly string TruthfulQaParquet = Fixture("truthful_qa", "generation", "validation-00000-of-00001.parquet");

    private static void SameSamples(IReadOnlyList<EvalSample> fromParquet, IReadOnlyList<EvalSample> published)
    {
        Assert.Equal(10, fromParquet.Count);
        for (int i = 0; i < fromParquet.Count; i++)
        {
            Assert.Equal(published[i].Id, fromParquet[i].Id);
            Assert.Equal(published[i].Subset, fromParquet[i].Subset);
            Assert.Equal(published[i].Prompt, fromParquet[i].Prompt);
            Assert.Equal(published[i].Reference, fromParquet[i].Reference);
            Assert.Equal(published[i].Request.MaxNewTokens, fromParquet[i].Request.MaxNewTokens);
            Assert.Equal(published[i].Request.StopStrings, fromParquet[i].Request.StopStrings);
        }
    }

    [Fact]
    public void CommonsenseQaParquetMatchesJsonLines() =>
        SameSamples(new CommonsenseQaTask(CsqaParquet).LoadSamples(),
            new CommonsenseQaTask(SharedData.Path("datasets", "commonsenseqa", "dev_rand_split.jsonl")).LoadSamples());

    [Fact]
    public void Gsm8kParquetMatchesJsonLines() =>
        SameSamples(new Gsm8kTask(Gsm8kParquet).LoadSamples(), new Gsm8kTask(SharedData.Path("datasets", "gsm8k", "test.jsonl")).LoadSamples());

    [Fact]
    public void TruthfulQaParquetMatchesCsv() =>
        SameSamples(new TruthfulQaTask(TruthfulQaParquet).LoadSamples(),
            new TruthfulQaTask(SharedData.Path("datasets", "truthfulqa", "TruthfulQA.csv")).LoadSamples());

    [Fact]
    public async Task FixturesHaveSeveralRowGroups()
    {
        foreach (var file in new[] { CsqaParquet, Gsm8kParquet, TruthfulQaParquet })
        {
            await using var reader = await ParquetReader.CreateAsync(file);
            Assert.True(reader.RowGroupCount > 1, file);
        }
    }

    [Fact]
    public void TaskCatalogFallsBackToTheHubParquetLayout()
    {
        var folder = Directory.CreateDirectory(Path.Combine(Temp, "commonsenseqa", "data")).FullName;
        File.Copy(CsqaParquet, Path.Combine(folder, "validation-00000-of-00001.parquet"));
        Assert.Equal(10, TaskCatalog.Create("csqa", Temp).LoadSamples().Count);
    }

    [Fact]
    public void NonParquetFileIsAClearError()
    {
        var path = Path.Combine(Temp, "validation.parquet");
        File.WriteAllText(path, "{\"question\": \"not parquet\"}\n");
        var e = Assert.Throws<DatasetFormatException>(() => new Gsm8kTask(path).LoadSamples());
        Assert.Contains(path, e.Message);
        Assert.Contains("not a parquet file", e.Message);
    }

    [Fact]
    public void MissingColumnIsAClearError()
    {
        var e = Assert.Throws<DatasetFormatException>(() => new CommonsenseQaTask(Gsm8kParquet).LoadSamples());
        Assert.Contains(Gsm8kParquet, e.Message);
        Assert.Contains("'choices/text'", e.Message);
        Assert.Contains("answerKey", e.Message);
    }

    [Fact]
    public void MissingFileNamesIt()
    {
        var path = Path.Combine(Temp, "absent.parquet");
        Assert.Contains(path, Assert.Throws<FileNotFoundException>(() => new TruthfulQaTask(path).LoadSamples()).Message);
    }
}
