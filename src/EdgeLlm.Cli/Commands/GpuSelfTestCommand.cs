using System.CommandLine;
using EdgeLlm.Checkpoints;
using EdgeLlm.Inference.Backends.Cuda;

namespace EdgeLlm.Cli.Commands;

/// <summary>
/// <c>gpu-selftest</c>: the CUDA engine's checks (CudaSelfTest) on reference fixtures, for a machine with a GPU
/// and no .NET SDK (the test project's GPU tests run the same checks where <c>dotnet test</c> exists).
/// </summary>
internal static class GpuSelfTestCommand
{
    public static Command Create()
    {
        var fixtures = new Option<string[]>("--fixture") { Description = "An hf-tiny fixture folder (repeatable).", AllowMultipleArgumentsPerToken = false };
        var trained = new Option<string?>("--trained") { Description = "The trained fixture folder (perplexity windows)." };
        var device = CommonOptions.Device();
        device.DefaultValueFactory = _ => "cuda";
        var output = new Option<string?>("--out") { Description = "Write every check as JSON here." };
        var json = CommonOptions.Json();
        var command = new Command("gpu-selftest", "Check the CUDA backend and fused engine against transformers' references and the CPU engine.")
            { fixtures, trained, device, output, json };
        command.SetAction(parse => Output.Guard(() =>
        {
            var selection = DeviceSelection.Parse(parse.GetValue(device)!);
            var checks = new List<SelfTestCheck>();
            var folders = parse.GetValue(fixtures) ?? [];
            foreach (var folder in folders)
            {
                Console.Error.WriteLine($"checking {folder}…");
                try { checks.AddRange(CudaSelfTest.Fixture(folder, selection)); }
                catch (Exception e) // one fixture's failure (a kernel error included) must not hide the others' results
                { checks.Add(new SelfTestCheck(Path.GetFileName(folder), "ran", 0, 1, false, $"{e.GetType().Name}: {e.Message}")); }
            }
            if (parse.GetValue(trained) is { } t)
            {
                Console.Error.WriteLine($"checking {t}…");
                checks.AddRange(CudaSelfTest.Perplexity(t, selection));
            }
            if (folders.Length > 0) checks.Add(CudaSelfTest.MissingDevice(folders[0]));
            var result = new { Passed = checks.Count(c => c.Passed), Failed = checks.Count(c => !c.Passed), Checks = checks };
            if (parse.GetValue(output) is { } path) AtomicFile.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(result, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            Output.Write(result, parse.GetValue(json), () =>
            {
                foreach (var c in checks)
                    Console.WriteLine($"{(c.Passed ? "ok  " : "FAIL")} {c.Fixture,-16} {c.Name,-62} {c.Value,12:G4} (limit {c.Limit:G3}) {c.Detail}");
                Console.WriteLine($"gpu-selftest: {result.Passed} passed, {result.Failed} failed");
            });
            return result.Failed == 0 ? 0 : 1;
        }));
        return command;
    }
}
