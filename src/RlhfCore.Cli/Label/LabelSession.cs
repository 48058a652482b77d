using RlhfCore.Feedback;
using RlhfCore.Feedback.Annotation;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace RlhfCore.Cli.Label;

/// <summary>
/// A person judging comparison items one at a time. Writes, in its output folder:
/// <list type="bullet">
/// <item><c>judgments.jsonl</c>: the append-only log, every decision (a, b, tie, skip) and every undo,
/// each flushed to disk before the next item is shown (see <see cref="JudgmentLog"/>);</item>
/// <item><c>pairs.jsonl</c>: the A/B judgments as TRL pairs <c>{"prompt","chosen","rejected"}</c> in input
/// order, ready for <c>rlhf reward</c> and <c>rlhf dpo</c>; rewritten atomically after each judgment, and
/// rebuilt from the log when a session starts, so it never disagrees with the log for long.</item>
/// </list>
/// Items are offered in input order, the first one without a live judgment first, so running the
/// session again on the same folder resumes where it stopped; undo retracts the latest judgment (also
/// one from an earlier session) and offers its item again.
/// </summary>
public sealed class LabelSession
{
    /// <summary>The log's file name in the output folder.</summary>
    public const string JudgmentsFile = "judgments.jsonl";

    /// <summary>The pairs file's name in the output folder.</summary>
    public const string PairsFile = "pairs.jsonl";

    private readonly IReadOnlyList<ComparisonItem> _items;
    private readonly string _outDir;
    private readonly ILabelInput _input;
    private readonly IAnsiConsole _console;

    /// <summary>A session over <paramref name="items"/> writing to <paramref name="outDir"/>.</summary>
    public LabelSession(IReadOnlyList<ComparisonItem> items, string outDir, ILabelInput input, IAnsiConsole console)
    {
        _items = items;
        _outDir = outDir;
        _input = input;
        _console = console;
    }

    /// <summary>
    /// The scripted entry point (what <c>rlhf label</c> runs when stdin is not a terminal): items from
    /// <paramref name="inputPath"/>, one key per line from <paramref name="keys"/>, plain text to <paramref name="output"/>.
    /// </summary>
    /// <exception cref="RlhfCore.Data.DataFormatException">The input file or an existing log is malformed (the message names the file and line).</exception>
    public static LabelSummary Run(string inputPath, string outDir, TextReader keys, TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        return new LabelSession(ComparisonFile.Read(inputPath), outDir, new LineLabelInput(keys), console).Run();
    }

    /// <summary>Runs until every item is judged, the person quits, or the input ends.</summary>
    public LabelSummary Run()
    {
        using var log = JudgmentLog.Open(Path.Combine(_outDir, JudgmentsFile), _items);
        string pairsPath = Path.Combine(_outDir, PairsFile);
        PairFile.Write(pairsPath, log.Pairs());
        if (log.DiscardedPartialLine)
            _console.MarkupLine("[yellow]warning:[/] removed an unfinished last line from the log (a write cut off by a crash); that item is offered again");
        if (log.Live.Count > 0)
            _console.MarkupLineInterpolated($"resuming: {log.Live.Count} of {_items.Count} items already judged");

        while (NextUnjudged(log) is int item)
        {
            Show(item, log.Live.Count);
            if (!Judge(log, item, pairsPath)) break;
        }
        var summary = Summarize(log);
        if (summary.Finished)
            _console.MarkupLineInterpolated($"all {summary.Total} items judged: {summary.Pairs} pairs, {summary.Ties} ties, {summary.Skipped} skipped");
        else
            _console.MarkupLineInterpolated($"stopped at {summary.Judged} of {summary.Total} judged ({summary.Pairs} pairs); run again to resume");
        _console.MarkupLineInterpolated($"judgments in {log.Path}, pairs in {pairsPath}");
        return summary;
    }

    /// <summary>Reads keys until one acts on <paramref name="item"/>; false when the person quits.</summary>
    private bool Judge(JudgmentLog log, int item, string pairsPath)
    {
        while (true)
        {
            _console.Markup("> ");
            string? typed = _input.Next();
            if (typed == null)
            {
                _console.WriteLine();
                return false;
            }
            // Neither piped lines nor intercepted key presses are echoed by the terminal; echo them so the transcript reads.
            _console.WriteLine(typed.Trim());
            switch (LabelKeys.Parse(typed))
            {
                case null:
                    _console.MarkupLineInterpolated($"unknown key '{typed.Trim()}': use a, b, t, s, u or q");
                    continue;
                case LabelKey.Quit:
                    return false;
                case LabelKey.Undo:
                    var undone = log.Undo();
                    if (undone == null)
                    {
                        _console.MarkupLine("nothing to undo");
                        continue;
                    }
                    PairFile.Write(pairsPath, log.Pairs());
                    _console.MarkupLineInterpolated($"undid item {undone.Item} ({undone.Decision.Name()})");
                    return true;
                case LabelKey key:
                    var decision = ToDecision(key);
                    if (_items[item - 1].Identical && decision is LabelDecision.A or LabelDecision.B)
                    {
                        _console.MarkupLine("A and B are the same text: press t (tie) or s (skip)");
                        continue;
                    }
                    log.Record(item, decision);
                    if (decision is LabelDecision.A or LabelDecision.B) PairFile.Write(pairsPath, log.Pairs());
                    return true;
            }
        }
    }

    private static LabelDecision ToDecision(LabelKey key) => key switch
    {
        LabelKey.A => LabelDecision.A,
        LabelKey.B => LabelDecision.B,
        LabelKey.Tie => LabelDecision.Tie,
        LabelKey.Skip => LabelDecision.Skip,
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "not a decision"),
    };

    private int? NextUnjudged(JudgmentLog log)
    {
        for (int i = 1; i <= _items.Count; i++)
            if (log.For(i) == null) return i;
        return null;
    }

    private void Show(int item, int judged)
    {
        var c = _items[item - 1];
        _console.WriteLine();
        _console.Write(new Rule($"item {item} of {_items.Count} · {judged} judged").LeftJustified());
        _console.Write(new Panel(Body(c.Prompt)).Header("prompt").Expand());
        var table = new Table().Expand().AddColumn("A").AddColumn("B");
        table.AddRow(Body(c.A), Body(c.B));
        _console.Write(table);
        _console.MarkupLine(Markup.Escape(LabelKeys.Help));
    }

    /// <summary>Text shown verbatim (never read as markup); an empty completion is marked so it is visible.</summary>
    private static IRenderable Body(string text) =>
        text.Length == 0 ? new Markup("[grey](empty)[/]") : new Text(text);

    private LabelSummary Summarize(JudgmentLog log) => new(
        _items.Count,
        log.Live.Count,
        log.Live.Count(j => j.Decision is LabelDecision.A or LabelDecision.B),
        log.Live.Count(j => j.Decision == LabelDecision.Tie),
        log.Live.Count(j => j.Decision == LabelDecision.Skip));
}
