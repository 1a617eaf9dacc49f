using System.Text.RegularExpressions;

namespace EdgeLlm.Evaluation.Metrics;

/// <summary>
/// opencompass/utils/text_postprocessors.py first_option_postprocess (0.3.1) with options "ABCD" (mmlu_gen_4d595a):
/// its patterns tried in order on the stripped text (re.DOTALL); the first that matches decides, and the answer is the
/// first of the options (in the options' order, not the text's) that occurs anywhere in the whole match; "" when no
/// pattern matches. The published list misses a comma after '故选?\s*([…])', so that pattern and the next are one
/// concatenated pattern there, and here. Python's \s also matches U+001C–U+001F, which .NET's does not: the patterns
/// are written in Python's syntax and translated.
/// </summary>
public static class FirstOptionPostprocessor
{
    // {0} stands for the options' character class body.
    private static readonly string[] PythonPatterns =
    [
        @"答案是?\s*([{0}])",
        @"答案是?\s*：\s*([{0}])",
        @"答案是?\s*:\s*([{0}])",
        @"答案选项应?该?是\s*([{0}])",
        @"答案选项应?该?为\s*([{0}])",
        @"答案应该?是\s*([{0}])",
        @"答案应该?选\s*([{0}])",
        @"答案选项为?\s*：\s*([{0}])",
        @"答案选项是?\s*:\s*([{0}])",
        @"答案为\s*([{0}])",
        @"答案选\s*([{0}])",
        @"选择?\s*([{0}])",
        @"故选?\s*([{0}])只有选?项?\s?([{0}])\s?是?对",
        @"只有选?项?\s?([{0}])\s?是?错",
        @"只有选?项?\s?([{0}])\s?不?正确",
        @"只有选?项?\s?([{0}])\s?错误",
        @"说法不?对选?项?的?是\s?([{0}])",
        @"说法不?正确选?项?的?是\s?([{0}])",
        @"说法错误选?项?的?是\s?([{0}])",
        @"([{0}])\s?是正确的",
        @"([{0}])\s?是正确答案",
        @"选项\s?([{0}])\s?正确",
        @"所以答\s?([{0}])",
        @"所以\s?([{0}][.。$]?$)",
        @"所有\s?([{0}][.。$]?$)",
        @"[\s，：:,]([{0}])[。，,\.]?$",
        @"[\s，,：:][故即]([{0}])[。\.]?$",
        @"[\s，,：:]因此([{0}])[。\.]?$",
        @"[是为。]\s?([{0}])[。\.]?$",
        @"因此\s?([{0}])[。\.]?$",
        @"显然\s?([{0}])[。\.]?$",
        @"答案是\s?(\S+)(?:。|$)",
        @"答案应该是\s?(\S+)(?:。|$)",
        @"答案为\s?(\S+)(?:。|$)",
        @"[Tt]he answer is:?\s+\(?([{0}])\)?",
        @"[Tt]he answer is option:?\s+\(?([{0}])\)?",
        @"[Tt]he correct answer is:?\s+\(?([{0}])\)?",
        @"[Tt]he correct answer is option:?\s+\(?([{0}])\)?",
        @"[Tt]he correct answer is:?.*?boxed\{{([{0}])\}}",
        @"[Tt]he correct option is:?.*?boxed\{{([{0}])\}}",
        @"[Tt]he correct answer option is:?.*?boxed\{{([{0}])\}}",
        @"[Tt]he answer to the question is:?\s+\(?([{0}])\)?",
        @"^选项\s?([{0}])",
        @"^([{0}])\s?选?项",
        @"(\s|^)[{0}][\s。，,：:\.$]",
        @"1.\s?(.*?)$",
        @"1.\s?([{0}])[.。$]?$",
        // cushion patterns (cushion=True, the default the config uses)
        @"([{0}]):",
        @"([{0}])",
    ];

    private static readonly Dictionary<string, Regex[]> Compiled = new();

    public static string Extract(string text, string options = "ABCD")
    {
        text = PythonSemantics.Strip(text);
        foreach (var pattern in PatternsFor(options))
        {
            var match = pattern.Match(text);
            if (!match.Success) continue;
            foreach (var option in options)
                if (match.Value.Contains(option)) return option.ToString();
        }
        return "";
    }

    private static Regex[] PatternsFor(string options)
    {
        lock (Compiled)
        {
            if (!Compiled.TryGetValue(options, out var patterns))
            {
                var body = Regex.Escape(options).Replace("]", @"\]").Replace("-", @"\-");
                patterns = PythonPatterns.Select(p => new Regex(Translate(string.Format(p, body)),
                    RegexOptions.Singleline | RegexOptions.CultureInvariant)).ToArray();
                Compiled[options] = patterns;
            }
            return patterns;
        }
    }

    // Python's \s (str patterns) = str.isspace(): .NET's \s plus U+001C–U+001F.
    private static string Translate(string python)
    {
        var result = new System.Text.StringBuilder();
        bool inClass = false;
        for (int i = 0; i < python.Length; i++)
        {
            char c = python[i];
            if (c == '\\' && i + 1 < python.Length)
            {
                char next = python[++i];
                if (next == 's') result.Append(inClass ? @"\s\x1c-\x1f" : @"[\s\x1c-\x1f]");
                else if (next == 'S') result.Append(inClass ? throw new NotSupportedException(@"\S inside a class") : @"[^\s\x1c-\x1f]");
                else result.Append(c).Append(next);
                continue;
            }
            if (c == '[' && !inClass) inClass = true;
            else if (c == ']' && inClass) inClass = false;
            result.Append(c);
        }
        return result.ToString();
    }
}
