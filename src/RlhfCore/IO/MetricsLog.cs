using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RlhfCore.IO;

/// <summary>
/// Per-step training metrics: one JSON object per line (<c>{"step":N,"loss":…,"objective/kl":…}</c>, any
/// names, TRL's where one exists) and a CSV beside it with the same rows. Both files are flushed after
/// every row, so a crash loses at most the row being written.
/// <para>
/// The CSV header is the union of all keys seen, in first-seen order. Rows are appended while the key set
/// is unchanged; when a row brings a new key the CSV is rewritten (atomically) from the rows kept in
/// memory, so the file on disk is always a complete, rectangular table. Key sets settle after the first
/// few steps, so rewrites are rare.
/// </para>
/// Non-finite values are written as the JSON strings <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c>
/// (plain JSON has no such numbers; pandas and System.Text.Json read them with the usual options).
/// </summary>
public sealed class MetricsLog : IDisposable
{
    private readonly FileStream _jsonl;
    private FileStream _csv;
    private readonly List<string> _columns = [];
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly List<(long Step, Dictionary<string, double> Values)> _rows = [];

    /// <summary>The JSONL file.</summary>
    public string JsonlPath { get; }

    /// <summary>The CSV file (the JSONL path with extension <c>.csv</c>).</summary>
    public string CsvPath { get; }

    /// <summary>The metric names seen so far, in first-seen order (the CSV columns after <c>step</c>).</summary>
    public IReadOnlyList<string> Columns => _columns;

    /// <summary>Creates (or replaces) <paramref name="jsonlPath"/> and the CSV beside it.</summary>
    public MetricsLog(string jsonlPath) : this(jsonlPath, []) { }

    /// <summary>
    /// Creates (or replaces) <paramref name="jsonlPath"/> and the CSV beside it, holding <paramref name="carried"/> first
    /// (a resumed run's earlier rows). Both files are replaced atomically, so a crash while a resumed run reopens its log
    /// leaves the old files whole rather than truncated.
    /// </summary>
    public MetricsLog(string jsonlPath, IEnumerable<(long Step, IReadOnlyDictionary<string, double> Values)> carried)
    {
        JsonlPath = Path.GetFullPath(jsonlPath);
        CsvPath = Path.ChangeExtension(JsonlPath, ".csv");
        foreach (var (step, values) in carried) Remember(step, values);
        AtomicFile.Write(JsonlPath, fs => { foreach (var (step, row) in _rows) WriteJsonLine(fs, step, row); });
        AtomicFile.Write(CsvPath, WriteCsv);
        _jsonl = new FileStream(JsonlPath, FileMode.Append, FileAccess.Write, FileShare.Read);
        _csv = new FileStream(CsvPath, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    /// <summary>Appends the row for <paramref name="step"/> to both files and flushes them.</summary>
    public void Log(long step, IReadOnlyDictionary<string, double> values)
    {
        bool newKey = Remember(step, values);
        WriteJsonLine(_jsonl, step, values);
        _jsonl.Flush();
        if (newKey) RewriteCsv();
        else
        {
            WriteCsvLine(_csv, CsvCells(step, _rows[^1].Values));
            _csv.Flush();
        }
    }

    /// <summary>Keeps the row in memory (for the CSV and charts); true when it brings a new column.</summary>
    private bool Remember(long step, IReadOnlyDictionary<string, double> values)
    {
        if (values.ContainsKey("step")) throw new ArgumentException("'step' is the row key; do not pass it as a metric", nameof(values));
        _rows.Add((step, new Dictionary<string, double>(values, StringComparer.Ordinal)));
        bool newKey = false;
        foreach (var k in values.Keys)
            if (_known.Add(k)) { _columns.Add(k); newKey = true; }
        return newKey;
    }

    private static void WriteJsonLine(Stream s, long step, IReadOnlyDictionary<string, double> values)
    {
        using (var w = new Utf8JsonWriter(s))
        {
            w.WriteStartObject();
            w.WriteNumber("step", step);
            foreach (var (k, v) in values)
            {
                if (double.IsFinite(v)) w.WriteNumber(k, v);
                else w.WriteString(k, NonFinite(v));
            }
            w.WriteEndObject();
        }
        s.WriteByte((byte)'\n');
    }

    /// <summary>The (step, value) points of metric <paramref name="name"/> logged so far, for charts.</summary>
    public IReadOnlyList<(double X, double Y)> Series(string name) =>
        _rows.Where(r => r.Values.ContainsKey(name)).Select(r => ((double)r.Step, r.Values[name])).ToList();

    private void RewriteCsv()
    {
        _csv.Dispose();
        AtomicFile.Write(CsvPath, WriteCsv);
        _csv = new FileStream(CsvPath, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    private void WriteCsv(Stream fs)
    {
        WriteCsvLine(fs, ["step", .. _columns]);
        foreach (var (step, row) in _rows) WriteCsvLine(fs, CsvCells(step, row));
    }

    private IEnumerable<string> CsvCells(long step, Dictionary<string, double> row)
    {
        yield return step.ToString(CultureInfo.InvariantCulture);
        foreach (var c in _columns)
            yield return !row.TryGetValue(c, out double v) ? "" : double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : NonFinite(v);
    }

    /// <summary>The spelling of a non-finite value, the same in both files and independent of culture settings.</summary>
    private static string NonFinite(double v) => double.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";

    /// <summary>One RFC 4180 line: cells with a comma, quote or line break are quoted, quotes doubled.</summary>
    private static void WriteCsvLine(Stream s, IEnumerable<string> cells)
    {
        var line = string.Join(",", cells.Select(c => c.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + c.Replace("\"", "\"\"") + "\"" : c));
        s.Write(Encoding.UTF8.GetBytes(line + "\n"));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _jsonl.Dispose();
        _csv.Dispose();
    }
}
