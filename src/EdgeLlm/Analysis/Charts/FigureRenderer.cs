using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using EdgeLlm.Checkpoints;

namespace EdgeLlm.Analysis.Charts;

/// <summary>What headless Chromium made of a figure: the JavaScript errors it raised and the image Plotly exported.</summary>
public sealed record RenderResult(IReadOnlyList<string> JavaScriptErrors, byte[] Image, string Format, int TracesDrawn);

/// <summary>
/// Renders figures with plotly.js inside headless Chromium (Debian's <c>chromium</c>, installed by scripts/setup.sh):
/// the page draws the figure, exports it with <c>Plotly.toImage</c>, and writes the image and any JavaScript errors
/// into the DOM, which Chromium prints with --dump-dom. Nothing is fetched from the network.
/// </summary>
public static partial class FigureRenderer
{
    /// <summary>CHROMIUM if set, else chromium or chromium-browser on the PATH.</summary>
    public static string LocateChromium()
    {
        if (Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } env) return env;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome" })
                if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        throw new FileNotFoundException("headless Chromium not found: run scripts/setup.sh (apt-get install chromium) or set CHROMIUM");
    }

    public static void SavePng(PlotlyFigure figure, string path, int width = 900, int height = 560) => Save(figure, path, "png", width, height);
    public static void SaveSvg(PlotlyFigure figure, string path, int width = 900, int height = 560) => Save(figure, path, "svg", width, height);

    private static void Save(PlotlyFigure figure, string path, string format, int width, int height)
    {
        var result = Render(figure, format, width, height);
        if (result.JavaScriptErrors.Count > 0)
            throw new InvalidOperationException($"rendering '{figure.Title}' to {path} raised JavaScript errors: {string.Join("; ", result.JavaScriptErrors)}");
        AtomicFile.Write(path, fs => fs.Write(result.Image));
    }

    /// <summary>Draws the figure and exports it as "png" or "svg".</summary>
    public static RenderResult Render(PlotlyFigure figure, string format = "png", int width = 900, int height = 560, TimeSpan? timeout = null)
    {
        if (format is not ("png" or "svg")) throw new ArgumentException($"format must be png or svg, not '{format}'");
        var work = Directory.CreateTempSubdirectory("edgellm-render-");
        try
        {
            var page = Path.Combine(work.FullName, "figure.html");
            File.WriteAllText(page, Page(figure, format, width, height));
            var dom = RunChromium(page, work.FullName, timeout ?? TimeSpan.FromSeconds(90));
            var errors = ErrorPattern().Matches(dom).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
            var image = ImagePattern().Match(dom);
            var traces = TracesPattern().Match(dom);
            if (!image.Success && errors.Count == 0) errors.Add("the page produced no image (Plotly.toImage did not finish)");
            var bytes = !image.Success ? [] : format == "png"
                ? Convert.FromBase64String(image.Groups[1].Value.Split(',', 2)[1])
                : System.Text.Encoding.UTF8.GetBytes(Uri.UnescapeDataString(WebUtility.HtmlDecode(image.Groups[1].Value).Split(',', 2)[1]));
            return new RenderResult(errors, bytes, format, traces.Success ? int.Parse(traces.Groups[1].Value) : 0);
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { }
        }
    }

    private static string Page(PlotlyFigure figure, string format, int width, int height) => $$"""
        <!DOCTYPE html>
        <html><head><meta charset="utf-8">
        <script>
        window.__errors = [];
        window.addEventListener("error", function (e) { window.__errors.push(String(e.message || e)); });
        window.addEventListener("unhandledrejection", function (e) { window.__errors.push("unhandled rejection: " + String(e.reason)); });
        </script>
        <script>{{PlotlyJs.Source()}}</script>
        </head><body>
        <div id="figure" style="width:{{width}}px;height:{{height}}px"></div>
        <script>
        function report(image) {
          var out = document.createElement("div");
          window.__errors.forEach(function (m) { var p = document.createElement("pre"); p.className = "js-error"; p.textContent = m; out.appendChild(p); });
          var t = document.createElement("pre"); t.id = "traces"; t.textContent = String(document.querySelectorAll("#figure .trace, #figure .point, #figure path.bar, #figure .scatterlayer .trace").length); out.appendChild(t);
          if (image) { var i = document.createElement("pre"); i.id = "image"; i.textContent = image; out.appendChild(i); }
          document.body.appendChild(out);
        }
        try {
          Plotly.newPlot("figure", {{figure.EmbeddedJson()}})
            .then(function (gd) { return Plotly.toImage(gd, { format: "{{format}}", width: {{width}}, height: {{height}} }); })
            .then(function (url) { report(url); }, function (err) { window.__errors.push("plotly: " + String(err)); report(null); });
        } catch (e) { window.__errors.push("plotly: " + String(e)); report(null); }
        </script>
        </body></html>
        """;

    private static string RunChromium(string page, string profile, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(LocateChromium())
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-extensions", "--disable-sync", "--no-first-run", "--mute-audio", "--hide-scrollbars",
            "--allow-file-access-from-files", $"--user-data-dir={Path.Combine(profile, "profile")}",
            "--virtual-time-budget=30000", "--run-all-compositor-stages-before-draw", "--dump-dom", new Uri(page).AbsoluteUri,
        }) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start Chromium");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Chromium did not finish rendering within {timeout.TotalSeconds:F0} s");
        }
        if (process.ExitCode != 0 || stdout.Result.Length == 0)
            throw new InvalidOperationException($"Chromium exited with code {process.ExitCode}: {Tail(stderr.Result)}");
        return stdout.Result;
    }

    private static string Tail(string s) => s.Length <= 800 ? s : s[^800..];

    [GeneratedRegex("<pre class=\"js-error\">(.*?)</pre>", RegexOptions.Singleline)]
    private static partial Regex ErrorPattern();
    [GeneratedRegex("<pre id=\"image\">(.*?)</pre>", RegexOptions.Singleline)]
    private static partial Regex ImagePattern();
    [GeneratedRegex("<pre id=\"traces\">(\\d+)</pre>")]
    private static partial Regex TracesPattern();
}
