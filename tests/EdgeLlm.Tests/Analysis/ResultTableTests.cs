using System.Diagnostics;
using System.Text.Json;
using EdgeLlm.Analysis.Tables;

namespace EdgeLlm.Tests.Analysis;

public sealed class ResultTableTests
{
    private static readonly ResultTable Scores = new(
        [new("method", ColumnType.String), new("task", ColumnType.String), new("ratio", ColumnType.Double), new("score", ColumnType.Double), new("n", ColumnType.Long)],
        [
            ["wanda", "gsm8k", 0.2, 0.40, 10L], ["wanda", "bbh", 0.2, 0.30, 10L], ["sparsegpt", "gsm8k", 0.2, 0.45, 10L],
            ["sparsegpt", "bbh", 0.2, null, 10L], ["wanda", "gsm8k", 0.5, 0.20, 10L],
        ]);

    [Fact]
    public void Group_pivot_and_join_give_hand_computed_values()
    {
        var mean = Scores.GroupBy("method").Aggregate(Agg.Mean("score"), Agg.Count(), Agg.Sum("n"));
        Assert.Equal((0.40 + 0.30 + 0.20) / 3, mean.Rows[0].GetDouble("score"), 12);
        Assert.Equal(0.45, mean.Rows[1].GetDouble("score"), 12); // the null is skipped
        Assert.Equal(2L, mean.Rows[1].GetLong("count"));
        Assert.Equal(ColumnType.Long, mean.TypeOf("n"));

        var wide = Scores.Filter(r => r.GetDouble("ratio") < 0.3).Pivot("method", "task", "score");
        Assert.Equal(["method", "gsm8k", "bbh"], wide.ColumnNames);
        Assert.True(wide.Rows[1].IsNull("bbh"));
        Assert.Equal(0.30, wide.Rows[0].GetDouble("bbh"), 12);

        var names = new ResultTable([new("method", ColumnType.String), new("year", ColumnType.Long)], [["wanda", 2023L]]);
        var joined = Scores.Join(names, "method");
        Assert.Equal(3, joined.RowCount);
        Assert.All(joined.Rows, r => Assert.Equal(2023L, r.GetLong("year")));
        Assert.Equal(5, Scores.Join(names, ["method"], left: true).RowCount);
    }

    [Fact]
    public void Cells_must_match_their_column_type()
    {
        var e = Assert.Throws<ArgumentException>(() => new ResultTable([new("ratio", ColumnType.Double)], [["0.5"]]));
        Assert.Contains("ratio", e.Message);
    }

    [Fact]
    public void Csv_follows_rfc4180_as_pythons_csv_module_reads_it()
    {
        var tricky = new ResultTable([new("text", ColumnType.String), new("x", ColumnType.Double), new("ok", ColumnType.Bool)],
        [
            ["plain", 1.5, true], ["comma, inside", 0.1, false], ["quote \"here\"", -2e-9, null], ["two\nlines\r\nand CRLF", null, true], ["", 3.0, false],
        ]);
        var path = Path.GetTempFileName();
        tricky.SaveCsv(path);
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))))");
        psi.ArgumentList.Add(path);
        using var p = Process.Start(psi)!;
        var rows = JsonSerializer.Deserialize<string[][]>(p.StandardOutput.ReadToEnd())!;
        p.WaitForExit();
        File.Delete(path);
        Assert.Equal(["text", "x", "ok"], rows[0]);
        Assert.Equal(6, rows.Length);
        for (int i = 0; i < tricky.RowCount; i++)
        {
            Assert.Equal(tricky.Rows[i].GetString("text"), rows[i + 1][0]);
            Assert.Equal(tricky.Rows[i].IsNull("x") ? "" : tricky.Rows[i].GetDouble("x").ToString("R", System.Globalization.CultureInfo.InvariantCulture), rows[i + 1][1]);
        }
        Assert.Equal(-2e-9, double.Parse(rows[3][1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Json_is_an_array_of_objects_with_typed_values()
    {
        using var doc = JsonDocument.Parse(Scores.ToJson());
        Assert.Equal(5, doc.RootElement.GetArrayLength());
        var fourth = doc.RootElement[3];
        Assert.Equal(JsonValueKind.Null, fourth.GetProperty("score").ValueKind);
        Assert.Equal(10, fourth.GetProperty("n").GetInt64());
        Assert.Equal("sparsegpt", fourth.GetProperty("method").GetString());
    }
}
