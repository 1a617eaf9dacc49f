using System.Text;

namespace EdgeLlm.Evaluation;

/// <summary>RFC 4180 CSV (quoted fields may hold commas, quotes as "", and newlines); rows carry their starting line.</summary>
public static class CsvFile
{
    public static IEnumerable<(int Line, List<string> Fields)> Read(string path)
    {
        var text = DatasetFiles.ReadText(path);
        int rows = 0;
        int line = 1, rowStart = 1, i = 0;
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, any = false;
        while (i < text.Length)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                if (c == '"') { quoted = false; i++; continue; }
                if (c == '\n') line++;
                field.Append(c); i++; continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0: quoted = true; any = true; break;
                case ',': fields.Add(field.ToString()); field.Clear(); any = true; break;
                case '\r': break;
                case '\n':
                    fields.Add(field.ToString()); field.Clear();
                    if (any || fields.Count > 1 || fields[0].Length > 0) { rows++; yield return (rowStart, fields); }
                    fields = new List<string>(); any = false; line++; rowStart = line; break;
                default: field.Append(c); any = true; break;
            }
            i++;
        }
        if (quoted) throw new DatasetFormatException(path, rowStart, "a quoted field is never closed");
        if (any || field.Length > 0) { fields.Add(field.ToString()); rows++; yield return (rowStart, fields); }
        if (rows == 0) throw new DatasetFormatException(path, line, "the file holds no rows");
    }
}
