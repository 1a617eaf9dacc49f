using System.Globalization;
using System.Text;

namespace EdgeLlm.Evaluation.Text.Jieba;

/// <summary>
/// jieba's prefix dictionary: every word of dict.txt ("word freq [tag]" per line) with its frequency,
/// plus every prefix of a word with frequency 0 unless it is a word itself. A word listed twice keeps
/// the later frequency while the total counts both, as jieba's gen_pfdict does.
/// </summary>
internal sealed class JiebaDictionary
{
    private readonly Dictionary<string, long> frequencies;
    private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> lookup;

    public long Total { get; }

    private JiebaDictionary(Dictionary<string, long> frequencies, long total)
    {
        this.frequencies = frequencies;
        lookup = frequencies.GetAlternateLookup<ReadOnlySpan<char>>();
        Total = total;
    }

    /// <summary>Whether the fragment is a word or a word's prefix.</summary>
    public bool Contains(ReadOnlySpan<char> fragment) => lookup.ContainsKey(fragment);

    /// <summary>The fragment's frequency; 0 for a prefix or an unknown fragment.</summary>
    public long Frequency(ReadOnlySpan<char> fragment) => lookup.TryGetValue(fragment, out var f) ? f : 0;

    public static JiebaDictionary Load(string path)
    {
        var frequencies = new Dictionary<string, long>(700_000, StringComparer.Ordinal);
        long total = 0;
        var lines = Encoding.UTF8.GetString(File.ReadAllBytes(path)).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (i == lines.Length - 1 && lines[i].Length == 0) break; // the text after the final newline
            var line = lines[i].Trim(' ', '\t', '\n', '\r', '\v', '\f');
            var fields = line.Split(' ');
            if (fields.Length < 2 || !long.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var frequency))
                throw new FormatException($"invalid dictionary entry in {path} at line {i + 1}: {line}");
            var word = fields[0];
            frequencies[word] = frequency;
            total += frequency;
            for (int end = 1; end < word.Length; end++)
                frequencies.TryAdd(word[..end], 0);
        }
        return new JiebaDictionary(frequencies, total);
    }
}
