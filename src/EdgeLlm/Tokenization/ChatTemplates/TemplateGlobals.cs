using System.Globalization;

namespace EdgeLlm.Tokenization.ChatTemplates;

/// <summary>The functions a chat template can call: Jinja2's range, namespace, dict, and transformers' raise_exception and strftime_now.</summary>
internal static class TemplateGlobals
{
    public static void Define(TemplateScope scope)
    {
        scope.Set("raise_exception", new CallableValue("raise_exception", (args, _) =>
            throw new TemplateRaise(args.Count > 0 ? TemplateValues.Str(args[0]) : "")));
        scope.Set("namespace", new CallableValue("namespace", (args, kwargs) =>
        {
            var ns = new NamespaceValue();
            foreach (var a in args)
            {
                if (a is not OrderedDictionary<string, object?> d) throw new TemplateRuntimeError("namespace() takes a dict or keyword arguments");
                foreach (var (k, v) in d) ns.Attributes[k] = v;
            }
            foreach (var (k, v) in kwargs) ns.Attributes[k] = v;
            return ns;
        }));
        scope.Set("dict", new CallableValue("dict", (_, kwargs) => TemplateValues.ToDict(kwargs.Select(k => (k.Name, k.Value)))));
        scope.Set("range", new CallableValue("range", (args, _) =>
        {
            long start = 0, stop, step = 1;
            if (args.Count == 1) stop = TemplateValues.ToLong(args[0]);
            else { start = TemplateValues.ToLong(args[0]); stop = TemplateValues.ToLong(args[1]); if (args.Count > 2) step = TemplateValues.ToLong(args[2]); }
            if (step == 0) throw new TemplateRuntimeError("range() arg 3 must not be zero");
            var items = new List<object?>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step)
            {
                if (items.Count > 100_000) throw new TemplateRuntimeError("range too big (the sandbox allows 100000 items)");
                items.Add(i);
            }
            return items;
        }));
        scope.Set("strftime_now", new CallableValue("strftime_now", (args, _) => Strftime(DateTime.Now, TemplateValues.Str(args[0]))));
    }

    /// <summary>Python's strftime for the common directives (C locale).</summary>
    public static string Strftime(DateTime t, string format)
    {
        var b = new System.Text.StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { b.Append(format[i]); continue; }
            char d = format[++i];
            b.Append(d switch
            {
                'd' => t.Day.ToString("00", CultureInfo.InvariantCulture),
                'm' => t.Month.ToString("00", CultureInfo.InvariantCulture),
                'Y' => t.Year.ToString("0000", CultureInfo.InvariantCulture),
                'y' => (t.Year % 100).ToString("00", CultureInfo.InvariantCulture),
                'H' => t.Hour.ToString("00", CultureInfo.InvariantCulture),
                'M' => t.Minute.ToString("00", CultureInfo.InvariantCulture),
                'S' => t.Second.ToString("00", CultureInfo.InvariantCulture),
                'b' => CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedMonthName(t.Month),
                'B' => CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(t.Month),
                'a' => CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedDayName(t.DayOfWeek),
                'A' => CultureInfo.InvariantCulture.DateTimeFormat.GetDayName(t.DayOfWeek),
                'j' => t.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => throw new TemplateRuntimeError($"strftime directive %{d} is not supported"),
            });
        }
        return b.ToString();
    }
}
