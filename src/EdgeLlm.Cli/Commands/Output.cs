using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeLlm.Cli.Commands;

/// <summary>Prints results: one JSON object (snake_case) with --json, readable lines otherwise; errors go to stderr.</summary>
internal static class Output
{
    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(object value, bool json, Action human)
    {
        if (json) Console.WriteLine(JsonSerializer.Serialize(value, value.GetType(), Json));
        else human();
    }

    /// <summary>
    /// Runs a command body, turning expected failures (the library's <see cref="EdgeLlmException"/>s, bad files,
    /// bad arguments) into one clear line and exit code 1; any other exception is a bug and keeps its stack trace.
    /// </summary>
    public static int Guard(Func<int> body)
    {
        try { return body(); }
        catch (Exception e) when (e is EdgeLlmException or IOException or InvalidDataException or ArgumentException or InvalidOperationException or FormatException
            or NotSupportedException or System.Net.Http.HttpRequestException)
        {
            Console.Error.WriteLine($"edgellm: {e.Message}");
            return 1;
        }
    }

    public static IProgress<string> Progress(bool quiet) =>
        new Progress<string>(message => { if (!quiet) Console.Error.WriteLine(message); });

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        _ => $"{bytes / 1024.0:F1} KiB",
    };
}
