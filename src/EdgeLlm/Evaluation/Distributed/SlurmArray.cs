using System.Text;

namespace EdgeLlm.Evaluation.Distributed;

/// <summary>The sbatch script <see cref="SlurmArray.Write"/> wrote, and the command that submits it.</summary>
public sealed record SlurmArrayScript(string Path, string SubmitCommand, string Text);

/// <summary>
/// A run as an ordinary Slurm job array: array task k (1..N) runs shard k/N of the plan into the same run
/// folder (shared storage), appending to its own record files; <c>eval merge RUN_DIR</c> then checks that
/// every sample is there and writes the summary. A requeued or rerun task resumes its own shard. With
/// <c>inferOnly</c> the tasks only generate (<c>eval --mode infer</c>: compute nodes without HumanEval's sandbox), and
/// <c>eval --mode eval</c> scores every shard's predictions afterwards in one process.
/// </summary>
public static class SlurmArray
{
    public const string ScriptName = "eval-array.sbatch";

    /// <summary>Saves the plan in the run folder and writes RUN_DIR/slurm/eval-array.sbatch.</summary>
    /// <remarks>edgellm: the command that runs edgellm on the compute nodes (absolute paths), e.g. ["dotnet", "/shared/edgellm/EdgeLlm.Cli.dll"].
    /// sbatchOptions: extra sbatch options as one string ("--partition=gpu --gres=gpu:1 -t 04:00:00"); each becomes a #SBATCH line.</remarks>
    public static SlurmArrayScript Write(RunPlan plan, string runDir, IReadOnlyList<string> edgellm, string? sbatchOptions = null, bool inferOnly = false)
    {
        plan = plan.Normalized();
        if (edgellm.Count == 0) throw new ArgumentException("The edgellm command for the array tasks is empty.");
        runDir = System.IO.Path.GetFullPath(runDir);
        plan.SaveTo(runDir);
        var folder = System.IO.Path.Combine(runDir, "slurm");
        Directory.CreateDirectory(folder);

        var text = new StringBuilder();
        text.Append("#!/bin/bash\n");
        text.Append("# Written by edgellm eval --slurm-array: array task k runs shard k/").Append(plan.Shards).Append(" into the run folder.\n");
        text.Append("# Submit with: sbatch ").Append(Quote(System.IO.Path.Combine(folder, ScriptName))).Append('\n');
        text.Append("# When every task has finished: ").Append(AfterwardsCommand(plan, runDir, inferOnly)).Append('\n');
        text.Append("#SBATCH --job-name=edgellm-eval\n");
        text.Append("#SBATCH --array=1-").Append(plan.Shards).Append('\n');
        text.Append("#SBATCH --output=").Append(SbatchPath(System.IO.Path.Combine(folder, "%A_%a.out"))).Append('\n');
        foreach (var line in SbatchLines(sbatchOptions ?? "")) text.Append("#SBATCH ").Append(line).Append('\n');
        text.Append("set -euo pipefail\n");
        text.Append(": \"${SLURM_ARRAY_TASK_ID:?this script runs as a Slurm array task (sbatch)}\"\n");
        var args = new List<string>(edgellm)
        {
            "eval", plan.Model, "--tasks", string.Join(",", plan.Tasks), "--data", plan.Datasets,
            "--max-seq-len", plan.MaxSeqLen.ToString(), "--out", runDir,
        };
        if (plan.MaxBatch is int maxBatch) { args.Add("--max-batch"); args.Add(maxBatch.ToString()); }
        args.Add("--protocol"); args.Add(plan.Protocol);
        if (plan.ChatTemplateFile is { } template) { args.Add("--chat-template"); args.Add(template); }
        if (plan.Limit is int limit) { args.Add("--limit"); args.Add(limit.ToString()); }
        if (inferOnly) { args.Add("--mode"); args.Add("infer"); }
        text.Append("exec ").Append(string.Join(' ', args.Select(Quote)))
            .Append(" --shard \"${SLURM_ARRAY_TASK_ID}/").Append(plan.Shards).Append("\"\n");

        var path = System.IO.Path.Combine(folder, ScriptName);
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, text.ToString());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead);
        File.Move(temp, path, overwrite: true);
        return new SlurmArrayScript(path, "sbatch " + Quote(path), text.ToString());
    }

    /// <summary>What to run once every array task has finished: the merge, or (after inference only) the scoring.</summary>
    public static string AfterwardsCommand(RunPlan plan, string runDir, bool inferOnly)
    {
        runDir = System.IO.Path.GetFullPath(runDir);
        if (!inferOnly) return "edgellm eval merge " + Quote(runDir);
        var words = new List<string> { "edgellm", "eval", plan.Model, "--mode", "eval", "--tasks", string.Join(",", plan.Tasks), "--data", plan.Datasets,
            "--max-seq-len", plan.MaxSeqLen.ToString(), "--protocol", plan.Protocol, "--out", runDir };
        if (plan.ChatTemplateFile is { } template) { words.Add("--chat-template"); words.Add(template); }
        if (plan.Limit is int limit) { words.Add("--limit"); words.Add(limit.ToString()); }
        return string.Join(' ', words.Select(Quote));
    }

    /// <summary>
    /// Splits sbatch options into one line per option: shell-style words (quotes removed), where a word not
    /// starting with '-' is the value of the option before it ("-p gpu" stays together).
    /// </summary>
    public static IReadOnlyList<string> SbatchLines(string options)
    {
        var lines = new List<string>();
        foreach (var word in ShellWords(options))
        {
            if (word.Any(char.IsWhiteSpace)) throw new FormatException($"--slurm-opts: '{word}' holds whitespace, which an #SBATCH line cannot.");
            if (word.StartsWith('-') || lines.Count == 0)
            {
                if (!word.StartsWith('-')) throw new FormatException($"--slurm-opts: '{word}' is not an sbatch option (options start with '-').");
                lines.Add(word);
            }
            else lines[^1] += " " + word;
        }
        foreach (var line in lines)
            if (line.StartsWith("--array", StringComparison.Ordinal) || line.StartsWith("-a", StringComparison.Ordinal))
                throw new FormatException("--slurm-opts: the array is set by --slurm-array N; leave --array out.");
        return lines;
    }

    private static IEnumerable<string> ShellWords(string text)
    {
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        foreach (char c in text)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else word.Append(c);
            }
            else if (c is '"' or '\'') { quote = c; inWord = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) yield return word.ToString();
                word.Clear();
                inWord = false;
            }
            else { word.Append(c); inWord = true; }
        }
        if (quote != '\0') throw new FormatException($"--slurm-opts: unclosed {quote} in \"{text}\".");
        if (inWord) yield return word.ToString();
    }

    /// <summary>A word for bash: as is when plain, else in single quotes.</summary>
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+%@".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";

    // #SBATCH lines are not run by a shell; sbatch splits them at whitespace, so a path with spaces cannot be given there.
    private static string SbatchPath(string path) =>
        path.Any(char.IsWhiteSpace) ? throw new ArgumentException($"The run folder '{path}' contains whitespace, which #SBATCH --output cannot hold.") : path;
}
