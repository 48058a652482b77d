using RlhfCore.Cli.Label;
using RlhfCore.Data;
using RlhfCore.Tests.Data;

namespace RlhfCore.Tests.Label;

/// <summary>Scripted <c>rlhf label</c> sessions: keys piped in, the exact JSONL checked.</summary>
public class LabelSessionTests
{
    private const string Input =
        "{\"prompt\":\"17+25=\",\"a\":\"42\",\"b\":\"41\"}\n" +
        "{\"prompt\":\"pizza review:\",\"completions\":[\" great crust.\",\" awful sauce.\"]}\n" +
        "{\"prompt\":\"1+1=\",\"a\":\"3\",\"b\":\"2\"}\n" +
        "{\"prompt\":\"2+2=\",\"a\":\"4\",\"b\":\"4\"}\n";

    private static string Judgment(int item, string decision, string prompt, string a, string b) =>
        $"{{\"item\":{item},\"decision\":\"{decision}\",\"prompt\":\"{prompt}\",\"a\":\"{a}\",\"b\":\"{b}\"}}\n";

    private static string Undo(int item) => $"{{\"item\":{item},\"decision\":\"undo\"}}\n";

    private static string Pair(string prompt, string chosen, string rejected) =>
        $"{{\"prompt\":\"{prompt}\",\"chosen\":\"{chosen}\",\"rejected\":\"{rejected}\"}}\n";

    private TempFiles _files = null!;
    private string _input = null!, _out = null!;

    [SetUp]
    public void SetUp()
    {
        _files = new TempFiles();
        _input = _files.Write("items.jsonl", Input);
        _out = _files.Missing("labels");
    }

    [TearDown] public void TearDown() => _files.Dispose();

    private (LabelSummary Summary, string Transcript) Session(string keys)
    {
        var output = new StringWriter();
        var summary = LabelSession.Run(_input, _out, new StringReader(keys), output);
        return (summary, output.ToString());
    }

    private string Judgments => File.ReadAllText(Path.Combine(_out, LabelSession.JudgmentsFile));
    private string Pairs => File.ReadAllText(Path.Combine(_out, LabelSession.PairsFile));

    [Test]
    public void JudgeUndoQuit_ThenResume_WritesTheExactLog()
    {
        // Session 1: unknown key (re-prompt), B, undo (item 1 again), A, skip, quit.
        var (s1, t1) = Session("x\nb\nu\na\ns\nq\nb\n");
        Assert.That(s1, Is.EqualTo(new LabelSummary(Total: 4, Judged: 2, Pairs: 1, Ties: 0, Skipped: 1)));
        Assert.That(Judgments, Is.EqualTo(
            Judgment(1, "b", "17+25=", "42", "41") + Undo(1) + Judgment(1, "a", "17+25=", "42", "41")
            + Judgment(2, "skip", "pizza review:", " great crust.", " awful sauce.")));
        Assert.That(Pairs, Is.EqualTo(Pair("17+25=", "42", "41")));
        Assert.That(t1, Does.Contain("item 1 of 4 · 0 judged").And.Contain("unknown key 'x': use a, b, t, s, u or q")
            .And.Contain("undid item 1 (b)").And.Contain("item 3 of 4 · 2 judged").And.Contain("stopped at 2 of 4 judged"));
        Assert.That(t1, Does.Contain("17+25=").And.Contain(" great crust.").And.Contain(" awful sauce."));

        // Session 2 resumes at item 3; undo reaches back into session 1 (the skip of item 2); input ends mid-way.
        var (s2, t2) = Session("u\nb\na\n");
        Assert.That(t2, Does.Contain("resuming: 2 of 4 items already judged").And.Contain("item 3 of 4 · 2 judged").And.Contain("undid item 2 (skip)"));
        Assert.That(t2, Does.Not.Contain("item 1 of 4"));
        Assert.That(s2, Is.EqualTo(new LabelSummary(4, 3, 3, 0, 0)));
        Assert.That(Judgments, Is.EqualTo(
            Judgment(1, "b", "17+25=", "42", "41") + Undo(1) + Judgment(1, "a", "17+25=", "42", "41")
            + Judgment(2, "skip", "pizza review:", " great crust.", " awful sauce.") + Undo(2)
            + Judgment(2, "b", "pizza review:", " great crust.", " awful sauce.")
            + Judgment(3, "a", "1+1=", "3", "2")));
        Assert.That(Pairs, Is.EqualTo(Pair("17+25=", "42", "41") + Pair("pizza review:", " awful sauce.", " great crust.") + Pair("1+1=", "3", "2")));

        // Session 3: item 4's completions are identical, so A is refused and a tie is taken; then everything is judged.
        var (s3, t3) = Session("a\nt\n");
        Assert.That(t3, Does.Contain("A and B are the same text: press t (tie) or s (skip)").And.Contain("all 4 items judged: 3 pairs, 1 ties, 0 skipped"));
        Assert.That(s3.Finished, Is.True);
        Assert.That(Judgments, Does.EndWith(Judgment(3, "a", "1+1=", "3", "2") + Judgment(4, "tie", "2+2=", "4", "4")));

        // A finished folder reads no keys and changes nothing.
        string before = Judgments;
        var (s4, t4) = Session("b\n");
        Assert.That((s4, Judgments), Is.EqualTo((s3, before)));
        Assert.That(t4, Does.Not.Contain("item 4 of 4"));
    }

    [Test]
    public void PairsFile_IsReadableAsTrlPairs()
    {
        Session("a\nb\n");
        var rows = JsonlReader.Read(Path.Combine(_out, LabelSession.PairsFile)).ToList();
        Assert.That(rows.Select(r => (r.GetString("prompt"), r.GetString("chosen"), r.GetString("rejected"))),
            Is.EqualTo(new[] { ("17+25=", "42", "41"), ("pizza review:", " awful sauce.", " great crust.") }));
        Assert.That(rows.All(r => r.Root.EnumerateObject().Count() == 3));
    }

    [Test]
    public void UndoWithNothingToUndo_WritesNothing()
    {
        var (summary, transcript) = Session("u\nq\n");
        Assert.That(transcript, Does.Contain("nothing to undo"));
        Assert.That((summary.Judged, Judgments, Pairs), Is.EqualTo((0, "", "")));
    }

    [Test]
    public void CrashMidWrite_ResumesFromTheLastWholeLine()
    {
        Session("a\nb\nq\n");
        // A crash cut the write of item 3's judgment short.
        File.AppendAllText(Path.Combine(_out, LabelSession.JudgmentsFile), "{\"item\":3,\"decision\":\"a\",\"pro");
        // And the pairs file lost its last rewrite: it is rebuilt from the log.
        File.WriteAllText(Path.Combine(_out, LabelSession.PairsFile), "");
        var (summary, transcript) = Session("t\nq\n");
        Assert.That(transcript, Does.Contain("removed an unfinished last line").And.Contain("item 3 of 4 · 2 judged"));
        Assert.That(summary.Judged, Is.EqualTo(3));
        Assert.That(Judgments, Does.EndWith(Judgment(2, "b", "pizza review:", " great crust.", " awful sauce.") + Judgment(3, "tie", "1+1=", "3", "2")));
        Assert.That(Pairs, Is.EqualTo(Pair("17+25=", "42", "41") + Pair("pizza review:", " awful sauce.", " great crust.")));
    }

    [Test]
    public void MalformedInput_NamesTheLine()
    {
        _input = _files.Write("bad.jsonl", "{\"prompt\":\"p\",\"a\":\"x\",\"b\":\"y\"}\n{\"prompt\":\"p\",\"completions\":[\"x\"]}\n");
        var e = Assert.Throws<DataFormatException>(() => Session("a\n"))!;
        Assert.That(e.Message, Is.EqualTo(_input + " line 2: field \"completions\" has 1 entries; a comparison needs exactly 2"));
        Assert.That(Directory.Exists(_out), Is.False, "nothing is written for a bad input");
    }

    [Test]
    public void ChangedInput_OnResume_IsAClearError()
    {
        Session("a\nq\n");
        _input = _files.Write("items.jsonl", Input.Replace("\"41\"", "\"40\""));
        var e = Assert.Throws<DataFormatException>(() => Session("a\n"))!;
        Assert.That(e.Message, Does.Contain("judgments.jsonl line 1: item 1 differs from item 1 of the input file"));
    }

    [TestCase("A\n", "a")]
    [TestCase(" tie \n", "tie")]
    [TestCase("SKIP\n", "skip")]
    public void Keys_AcceptCaseAndWords(string keys, string decision)
    {
        Session(keys);
        Assert.That(Judgments, Is.EqualTo(Judgment(1, decision, "17+25=", "42", "41")));
    }
}
