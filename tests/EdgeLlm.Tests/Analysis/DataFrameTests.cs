using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeLlm.Analysis.Tables;
using Microsoft.Data.Analysis;

namespace EdgeLlm.Tests.Analysis;

public sealed class DataFrameTests
{
    private static DataFrame Scores() => new(
        new StringDataFrameColumn("method", ["wanda", "wanda", "sparsegpt", "sparsegpt", "wanda", null]),
        new StringDataFrameColumn("task", ["gsm8k", "bbh", "gsm8k", "bbh", "gsm8k", "bbh"]),
        new DoubleDataFrameColumn("ratio", [0.2, 0.2, 0.2, 0.2, 0.5, 0.5]),
        new DoubleDataFrameColumn("score", [0.40, 0.30, 0.45, null, 0.20, 0.10]),
        new Int64DataFrameColumn("n", [10, 10, 10, 10, 10, 7]));

    private static DataFrame Sample() => new(
        new StringDataFrameColumn("method", ["wanda-sp", "flap, global", null]),
        new DoubleDataFrameColumn("ratio", [0.123456789012345, null, 1e-9]),
        new Int64DataFrameColumn("parameters", [2_779_683_840L, 12L, null]),
        new BooleanDataFrameColumn("fits", [true, false, null]));

    [Fact]
    public void Aggregate_groups_on_several_keys_and_skips_nulls_where_dataframe_groupby_counts_them_as_zero()
    {
        var mean = Scores().Aggregate(["method"], Agg.Mean("score"), Agg.Count(), Agg.Sum("n"), Agg.Max("score", "best"));
        Assert.Equal(["method", "score", "count", "n", "best"], mean.ColumnNames());
        Assert.Equal(3, mean.Rows.Count);                                  // wanda, sparsegpt, and the null method
        Assert.Equal((0.40 + 0.30 + 0.20) / 3, mean.Rows[0].GetDouble("score"), 12);
        Assert.Equal(0.45, mean.Rows[1].GetDouble("score"), 12);           // the null score is skipped
        Assert.Equal(2L, mean.Rows[1].GetLong("count"));
        Assert.Equal(typeof(long), mean["n"].DataType);
        Assert.Equal(30L, mean.Rows[0].GetLong("n"));
        Assert.True(mean.Rows[2].IsNull("method"));
        Assert.Equal(7L, mean.Rows[2].GetLong("n"));

        // Why: the package's own GroupBy divides by every row of the group, null cells included.
        var library = Scores().GroupBy("method").Mean("score");
        Assert.Equal(0.45 / 2, Convert.ToDouble(library.Filter(library["method"].ElementwiseEquals("sparsegpt"))["score"][0]), 12);
        Assert.Equal(2, library.Rows.Count);                               // and the null key's row is gone

        var byVariant = Scores().Aggregate(["method", "ratio"], Agg.Mean("score"), Agg.StdDev("score", "sd"));
        Assert.Equal(4, byVariant.Rows.Count);
        Assert.Equal(Math.Sqrt(((0.40 - 0.35) * (0.40 - 0.35) + (0.30 - 0.35) * (0.30 - 0.35)) / 1), byVariant.Rows[0].GetDouble("sd"), 12);
        Assert.Equal(0.20, byVariant.Filter(r => r["method"] as string == "wanda" && r.GetDouble("ratio") == 0.5).Rows.Single().GetDouble("score"), 12);
    }

    [Fact]
    public void Filter_select_pivot_join_and_sort_give_hand_computed_values()
    {
        var wide = Scores().Filter(r => r.GetDouble("ratio") < 0.3).Pivot("method", "task", "score");
        Assert.Equal(["method", "gsm8k", "bbh"], wide.ColumnNames());
        Assert.True(wide.Rows[1].IsNull("bbh"));
        Assert.Equal(0.30, wide.Rows[0].GetDouble("bbh"), 12);

        var names = new DataFrame(new StringDataFrameColumn("method", ["wanda"]), new Int64DataFrameColumn("year", [2023L]));
        var joined = Scores().JoinOn(names, ["method"]);
        Assert.Equal(3, joined.Rows.Count);
        Assert.All(joined.Rows, r => Assert.Equal(2023L, r.GetLong("year")));
        var leftJoined = Scores().JoinOn(names, ["method"], left: true);
        Assert.Equal(6, leftJoined.Rows.Count);
        Assert.True(leftJoined.Rows[2].IsNull("year"));

        var sorted = Scores().Sort("score");
        Assert.Equal([null, 0.10, 0.20, 0.30, 0.40, 0.45], sorted.Values("score").Select(v => (double?)v));
        Assert.Equal(["wanda", "wanda", "sparsegpt", "sparsegpt", "wanda", ""], Scores().Sort("ratio").Strings("method")); // stable

        var withGain = Scores().WithColumn("pct", r => r.TryGetDouble("score") * 100);
        Assert.Equal(typeof(double), withGain["pct"].DataType);
        Assert.Null(withGain["pct"][3]);
        Assert.Equal(40.0, (double)withGain["pct"][0]!, 9);
        Assert.Equal(typeof(long), Scores().WithColumn("n", r => (int)r.GetLong("n") * 2)["n"].DataType);
        Assert.Equal(12, Scores().Concat(Scores()).Rows.Count);
    }

    [Fact]
    public void Records_become_typed_columns()
    {
        var frame = DataFrames.FromRecords([new { Model = "phi-2", Parameters = 2_779_683_840L, Fits = true, Utilisation = 0.5f, Layers = 32 }]);
        Assert.Equal([typeof(string), typeof(long), typeof(bool), typeof(double), typeof(long)], frame.Columns.Select(c => c.DataType));
        Assert.Equal(32L, frame.Rows[0].GetLong("Layers"));
        var e = Assert.Throws<ArgumentException>(() => frame.Column("layers"));
        Assert.Equal("no column 'layers' (columns: Model, Parameters, Fits, Utilisation, Layers)", e.Message);
    }

    [Fact]
    public void Csv_follows_rfc4180_as_pythons_csv_module_reads_it()
    {
        var tricky = new DataFrame(new StringDataFrameColumn("text", ["plain", "comma, inside", "quote \"here\"", "two\nlines\r\nand CRLF", ""]),
            new DoubleDataFrameColumn("x", [1.5, 0.1, -2e-9, null, 3.0]), new BooleanDataFrameColumn("ok", [true, false, null, true, false]));
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
        Assert.Equal(["plain", "comma, inside", "quote \"here\"", "two\nlines\r\nand CRLF", ""], rows.Skip(1).Select(r => r[0]));
        Assert.Equal(["1.5", "0.1", "-2E-09", "", "3"], rows.Skip(1).Select(r => r[1]));   // shortest round trip, not 0.10000000000000001
        Assert.Equal(["true", "false", "", "true", "false"], rows.Skip(1).Select(r => r[2]));
    }

    [Fact]
    public void Csv_round_trip_keeps_doubles_as_double_where_dataframe_loadcsv_reads_single()
    {
        var path = Path.Combine(Path.GetTempPath(), $"edgellm-df-{Guid.NewGuid():N}.csv");
        Sample().SaveCsv(path);
        var library = DataFrame.LoadCsv(path);
        Assert.Equal(typeof(float), library["ratio"].DataType);           // why LoadCsv is not used as is
        Assert.NotEqual(0.123456789012345, Convert.ToDouble(library["ratio"][0]));

        var read = DataFrames.LoadCsv(path);
        Assert.Equal([typeof(string), typeof(double), typeof(long), typeof(bool)], read.Columns.Select(c => c.DataType));
        Assert.Equal(0.123456789012345, read["ratio"][0]);
        Assert.Equal(1e-9, read["ratio"][2]);
        Assert.Equal("flap, global", read["method"][1]);
        Assert.Null(read["parameters"][2]);
        Assert.Equal(Sample().ToCsv(), read.ToCsv());
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
    public void Json_is_an_array_of_objects_with_typed_values()
    {
        using var doc = JsonDocument.Parse(Scores().ToJson());
        Assert.Equal(6, doc.RootElement.GetArrayLength());
        var fourth = doc.RootElement[3];
        Assert.Equal(JsonValueKind.Null, fourth.GetProperty("score").ValueKind);
        Assert.Equal(10, fourth.GetProperty("n").GetInt64());
        Assert.Equal("sparsegpt", fourth.GetProperty("method").GetString());
        Assert.Equal(JsonValueKind.Null, doc.RootElement[5].GetProperty("method").ValueKind);
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
        Assert.Contains("  1232000", new DataFrame(new DoubleDataFrameColumn("mean_parameters", [1_232_000.0])).ToText()); // whole numbers in full
        Assert.Equal("(2 rows × 3 columns)", frame.ToText().Split('\n')[^1]);
    }

    [Fact]
    public void Summaries_of_a_memory_prediction_add_up_to_its_total()
    {
        var report = EdgeLlm.Profiling.MemoryWorkflow.Predict("phi-2", new EdgeLlm.Profiling.MemoryQuery
        {
            Context = 4096, Device = EdgeLlm.Profiling.DeviceProfile.Resolve("phone-12gb"), Runtime = EdgeLlm.Profiling.RuntimeProfile.Resolve("mlc-llm-android"),
        });
        var parts = report.ToDataFrame();
        Assert.Equal(["weights", "kv_cache", "activations", "workspace", "overhead", "total"], parts.Strings("part"));
        Assert.Equal(report.Prediction.TotalBytes, parts.Filter(r => r.GetString("part") != "total").Rows.Sum(r => r.GetLong("bytes")));
        // Phi-2 in FP16: 2,779,683,840 parameters × 2 bytes.
        Assert.Equal(2_779_683_840L * 2, parts.Rows[0].GetLong("bytes"));
    }
}
