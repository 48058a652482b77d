using RlhfCore.Data;

namespace RlhfCore.Feedback.Annotation;

/// <summary>
/// The append-only record of a labeling session, <c>judgments.jsonl</c>. A judgment is
/// <c>{"item":k,"decision":"a"|"b"|"tie"|"skip","prompt","a","b"}</c>; an undo is a retraction
/// <c>{"item":k,"decision":"undo"}</c> of the latest live judgment, which must be item k's.
/// Each record is one write followed by a flush to disk (fsync) before the call returns, so an
/// acknowledged judgment survives Ctrl-C, a crash or a power loss. Appending (rather than rewriting
/// the file on undo) means the file is never rewritten in place: the only damage a crash can do is an
/// unfinished last line, which was never acknowledged, and <see cref="Open"/> discards it.
/// Replaying the file gives the live judgments; the item text is stored with each judgment so a
/// resumed session can check the input file has not changed under it.
/// </summary>
public sealed class JudgmentLog : IDisposable
{
    private readonly IReadOnlyList<ComparisonItem> _items;
    private readonly List<JudgmentRecord> _live = [];
    private readonly JudgmentRecord?[] _byItem;
    private readonly FileStream _stream;

    private JudgmentLog(string path, IReadOnlyList<ComparisonItem> items, bool discardedPartialLine)
    {
        Path = path;
        _items = items;
        _byItem = new JudgmentRecord?[items.Count];
        DiscardedPartialLine = discardedPartialLine;
        if (File.Exists(path)) Replay();
        _stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    /// <summary>The log file.</summary>
    public string Path { get; }

    /// <summary>True when <see cref="Open"/> found an unfinished last line (left by a crash mid-write) and removed it.</summary>
    public bool DiscardedPartialLine { get; }

    /// <summary>Live judgments, oldest first (the last one is what <see cref="Undo"/> retracts).</summary>
    public IReadOnlyList<JudgmentRecord> Live => _live;

    /// <summary>
    /// Opens (or creates) the log at <paramref name="path"/> for <paramref name="items"/>, replaying what it holds.
    /// </summary>
    /// <exception cref="DataFormatException">A line is malformed, names an item the input lacks or whose text differs, or undoes something that is not the latest judgment.</exception>
    public static JudgmentLog Open(string path, IReadOnlyList<ComparisonItem> items)
    {
        string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir != null) Directory.CreateDirectory(dir);
        return new JudgmentLog(path, items, File.Exists(path) && TruncatePartialLine(path));
    }

    /// <summary>Removes bytes after the last newline (a record whose write did not finish); true when there were any.</summary>
    private static bool TruncatePartialLine(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        long end = fs.Length;
        var one = new byte[1];
        while (end > 0)
        {
            fs.Position = end - 1;
            fs.ReadExactly(one);
            if (one[0] == (byte)'\n') break;
            end--;
        }
        if (end == fs.Length) return false;
        fs.SetLength(end);
        fs.Flush(flushToDisk: true);
        return true;
    }

    private void Replay()
    {
        foreach (var r in JsonlReader.Read(Path))
        {
            string decisionName = r.GetString("decision");
            int item = ItemNumber(r);
            if (decisionName == LabelDecisions.UndoName)
            {
                if (_live.Count == 0 || _live[^1].Item != item)
                    throw r.Error(null, $"undoes item {item}, but the latest judgment is {(_live.Count == 0 ? "none" : $"item {_live[^1].Item}")}");
                Retract();
                continue;
            }
            var decision = LabelDecisions.Parse(decisionName)
                ?? throw r.Error("decision", $"is '{decisionName}'; expected a, b, tie, skip or undo");
            var stored = new ComparisonItem(r.GetString("prompt"), r.GetString("a"), r.GetString("b"));
            if (stored != _items[item - 1])
                throw r.Error(null, $"item {item} differs from item {item} of the input file: the input changed since these judgments were made (label into a new folder, or restore the input)");
            if (_byItem[item - 1] != null) throw r.Error(null, $"judges item {item} a second time without undoing it first");
            Add(new JudgmentRecord(item, decision, stored));
        }
    }

    private int ItemNumber(JsonlRecord r)
    {
        if (!r.Root.TryGetProperty("item", out var v) || v.ValueKind != System.Text.Json.JsonValueKind.Number || !v.TryGetInt32(out int item))
            throw r.Error("item", "is missing or not an integer");
        if (item < 1 || item > _items.Count) throw r.Error("item", $"is {item}, but the input file has items 1 to {_items.Count}");
        return item;
    }

    /// <summary>The live judgment of item <paramref name="item"/> (1-based), or null when it has none.</summary>
    public JudgmentRecord? For(int item) => _byItem[item - 1];

    /// <summary>Records <paramref name="decision"/> for item <paramref name="item"/> (1-based) and flushes it to disk.</summary>
    /// <exception cref="InvalidOperationException">The item already has a live judgment.</exception>
    public JudgmentRecord Record(int item, LabelDecision decision)
    {
        if (_byItem[item - 1] != null) throw new InvalidOperationException($"item {item} is already judged; undo it first");
        var comparison = _items[item - 1];
        Append(JsonLine.Build(w =>
        {
            w.WriteNumber("item", item);
            w.WriteString("decision", decision.Name());
            w.WriteString("prompt", comparison.Prompt);
            w.WriteString("a", comparison.A);
            w.WriteString("b", comparison.B);
        }));
        var record = new JudgmentRecord(item, decision, comparison);
        Add(record);
        return record;
    }

    /// <summary>Retracts the latest live judgment (flushed to disk), or returns null when there is none.</summary>
    public JudgmentRecord? Undo()
    {
        if (_live.Count == 0) return null;
        var last = _live[^1];
        Append(JsonLine.Build(w =>
        {
            w.WriteNumber("item", last.Item);
            w.WriteString("decision", LabelDecisions.UndoName);
        }));
        Retract();
        return last;
    }

    /// <summary>The TRL pairs of the live A/B judgments, in item order (ties and skips make none).</summary>
    public IReadOnlyList<PreferencePair> Pairs()
    {
        var pairs = new List<PreferencePair>();
        foreach (var j in _byItem)
            if (j?.Decision.ToPair(j.Comparison) is { } pair) pairs.Add(pair);
        return pairs;
    }

    private void Add(JudgmentRecord record)
    {
        _live.Add(record);
        _byItem[record.Item - 1] = record;
    }

    private void Retract()
    {
        _byItem[_live[^1].Item - 1] = null;
        _live.RemoveAt(_live.Count - 1);
    }

    private void Append(byte[] line)
    {
        // One write of the whole line, then fsync: until Flush(true) returns the judgment is not acknowledged.
        _stream.Write(line);
        _stream.Flush(flushToDisk: true);
    }

    /// <inheritdoc/>
    public void Dispose() => _stream.Dispose();
}
