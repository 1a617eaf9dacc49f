using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeLlm.Cli.Notebooks;

/// <summary>A Jupyter notebook (nbformat 4) read as JSON: its cells, their language, and helpers to build outputs.</summary>
internal sealed class NotebookDocument
{
    public JsonObject Root { get; }
    public string Path { get; }

    private NotebookDocument(JsonObject root, string path) { Root = root; Path = path; }

    public static NotebookDocument Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"notebook '{path}' does not exist");
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new FormatException($"notebook '{path}' is not JSON: {e.Message}", e); }
        if (node is not JsonObject root || root["cells"] is not JsonArray)
            throw new FormatException($"notebook '{path}' has no \"cells\" array (not an nbformat 4 notebook)");
        if (root["nbformat"]?.GetValue<int>() is int major && major != 4)
            throw new FormatException($"notebook '{path}' is nbformat {major}; only version 4 is supported");
        return new NotebookDocument(root, path);
    }

    public IEnumerable<JsonObject> Cells => ((JsonArray)Root["cells"]!).OfType<JsonObject>();

    public static string Source(JsonObject cell) => cell["source"] switch
    {
        JsonArray lines => string.Concat(lines.Select(l => l?.GetValue<string>())),
        JsonValue v => v.GetValue<string>(),
        _ => "",
    };

    /// <summary>The cell's kernel language: polyglot metadata first, then the notebook's kernel, then F#.</summary>
    public string Language(JsonObject cell) =>
        (cell["metadata"]?["polyglot_notebook"]?["kernelName"] ?? cell["metadata"]?["dotnet_interactive"]?["language"]
         ?? Root["metadata"]?["polyglot_notebook"]?["defaultKernelName"] ?? Root["metadata"]?["kernelspec"]?["language"])
        ?.GetValue<string>().ToLowerInvariant() switch
        {
            null or "fsharp" or "f#" => "fsharp",
            var other => other,
        };

    /// <summary>Splits text into nbformat's multi-line string form (lines keep their "\n").</summary>
    public static JsonArray Lines(string text)
    {
        var array = new JsonArray();
        int start = 0;
        for (int i = 0; i < text.Length; i++)
            if (text[i] == '\n') { array.Add(text[start..(i + 1)]); start = i + 1; }
        if (start < text.Length) array.Add(text[start..]);
        return array;
    }

    public static JsonObject Stream(string name, string text) => new() { ["output_type"] = "stream", ["name"] = name, ["text"] = Lines(text) };

    public static JsonObject Data(string outputType, string html, string text, int? count, string? pngBase64 = null)
    {
        var o = new JsonObject { ["output_type"] = outputType };
        if (outputType == "execute_result") o["execution_count"] = count;
        o["data"] = new JsonObject { ["text/html"] = Lines(html), ["text/plain"] = Lines(text) };
        if (pngBase64 is not null) o["data"]!["image/png"] = pngBase64;
        o["metadata"] = new JsonObject();
        return o;
    }

    public static JsonObject Error(string name, string message, IEnumerable<string> traceback) => new()
    {
        ["output_type"] = "error", ["ename"] = name, ["evalue"] = message,
        ["traceback"] = new JsonArray(traceback.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
    };

    public string ToJson() => Root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
}
