using EdgeLlm.Analysis.Tables;
using Microsoft.Data.Analysis;

namespace EdgeLlm.Tests.Analysis;

public sealed class DataFrameTests
{
    private static ResultTable Sample() => new(
        [new("method", ColumnType.String), new("ratio", ColumnType.Double), new("parameters", ColumnType.Long), new("fits", ColumnType.Bool)],
        [["wanda-sp", 0.123456789012345, 2_779_683_840L, true], ["flap, global", null, 12L, false], [null, 1e-9, null, null]]);

    [Fact]
    public void A_result_table_becomes_typed_dataframe_columns_and_comes_back_unchanged()
    {
        var frame = Sample().ToDataFrame();
        Assert.Equal([typeof(string), typeof(double), typeof(long), typeof(bool)], frame.Columns.Select(c => c.DataType));
        Assert.Equal(3, frame.Rows.Count);
        Assert.Equal(2_779_683_840L, frame["parameters"][0]);
        Assert.Null(frame["ratio"][1]);
        var back = frame.ToResultTable();
        Assert.Equal(Sample().Columns, back.Columns);
        Assert.Equal(Sample().ToCsv(), back.ToCsv());
    }

    [Fact]
    public void Csv_round_trip_keeps_doubles_as_double_where_dataframe_loadcsv_reads_single()
    {
        var path = Path.Combine(Path.GetTempPath(), $"edgellm-df-{Guid.NewGuid():N}.csv");
        var frame = Sample().ToDataFrame();
        frame.SaveCsv(path);
        var library = DataFrame.LoadCsv(path);
        Assert.Equal(typeof(float), library["ratio"].DataType);           // why LoadCsv is not used as is
        Assert.NotEqual(0.123456789012345, Convert.ToDouble(library["ratio"][0]));

        var read = DataFrames.LoadCsv(path);
        Assert.Equal([typeof(string), typeof(double), typeof(long), typeof(bool)], read.Columns.Select(c => c.DataType));
        Assert.Equal(0.123456789012345, read["ratio"][0]);
        Assert.Equal(1e-9, read["ratio"][2]);
        Assert.Equal("flap, global", read["method"][1]);
        Assert.Null(read["parameters"][2]);
        Assert.Equal(Sample().ToCsv(), read.ToResultTable().ToCsv());
        File.Delete(path);
    }

    [Fact]
    public void A_csv_with_a_short_record_names_the_file_and_the_record()
    {
        var path = Path.Combine(Path.GetTempPath(), $"edgellm-df-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, "a,b\n1,2\n3\n");
        var e = Assert.Throws<FormatException>(() => DataFrames.LoadCsv(path));
        Assert.Equal($"{path}: record 3 has 1 cells, the header has 2", e.Message);
        File.Delete(path);
    }

    [Fact]
    public void Text_rendering_keeps_every_column_aligned_with_long_numbers()
    {
        var frame = new DataFrame(new StringDataFrameColumn("model", ["phi-2", "a-rather-long-model-name"]),
            new Int64DataFrameColumn("parameters", [2_779_683_840L, 7]), new DoubleDataFrameColumn("tpot_ms", [123456789.125, 0.5]));
        var lines = frame.ToText().Split('\n')[..4];
        // Columns start where the dashes of the rule line start, in every line.
        var starts = new List<int> { 0 };
        for (int i = 1; i < lines[1].Length; i++) if (lines[1][i] == '-' && lines[1][i - 1] == ' ') starts.Add(i);
        Assert.Equal(3, starts.Count);
        foreach (var line in lines.Where((_, i) => i != 1))
            foreach (var s in starts.Skip(1)) Assert.Equal(' ', line[s - 1]);
        Assert.EndsWith("2779683840", lines[2][..(starts[2] - 2)]);       // right-aligned, not cut
        Assert.Contains("1.235E+08", lines[2]);
    }
}
