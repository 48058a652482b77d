using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Feedback.Annotation;
using RlhfCore.Tests.Data;

namespace RlhfCore.Tests.Annotation;

public class JudgmentLogTests
{
    private static readonly ComparisonItem[] Items =
        [new("1+1=", "2", "3"), new("2+2=", "5", "4"), new("3+3=", "6", "6")];

    private TempFiles _files = null!;

    [SetUp] public void SetUp() => _files = new TempFiles();
    [TearDown] public void TearDown() => _files.Dispose();

    [Test]
    public void RecordAndUndo_AppendLines_AndReplayToTheSameState()
    {
        string path = _files.Missing("j/judgments.jsonl");
        using (var log = JudgmentLog.Open(path, Items))
        {
            log.Record(1, LabelDecision.A);
            log.Record(2, LabelDecision.Skip);
            Assert.That(log.Undo()!.Item, Is.EqualTo(2));
            log.Record(2, LabelDecision.B);
            log.Record(3, LabelDecision.Tie);
            // Written at once: readable by another reader before the log is closed.
            Assert.That(File.ReadAllLines(path), Has.Length.EqualTo(5));
        }
        Assert.That(File.ReadAllText(path), Is.EqualTo(
            "{\"item\":1,\"decision\":\"a\",\"prompt\":\"1+1=\",\"a\":\"2\",\"b\":\"3\"}\n" +
            "{\"item\":2,\"decision\":\"skip\",\"prompt\":\"2+2=\",\"a\":\"5\",\"b\":\"4\"}\n" +
            "{\"item\":2,\"decision\":\"undo\"}\n" +
            "{\"item\":2,\"decision\":\"b\",\"prompt\":\"2+2=\",\"a\":\"5\",\"b\":\"4\"}\n" +
            "{\"item\":3,\"decision\":\"tie\",\"prompt\":\"3+3=\",\"a\":\"6\",\"b\":\"6\"}\n"));
        using var reopened = JudgmentLog.Open(path, Items);
        Assert.That(reopened.Live.Select(j => (j.Item, j.Decision)), Is.EqualTo(new[] { (1, LabelDecision.A), (2, LabelDecision.B), (3, LabelDecision.Tie) }));
        Assert.That(reopened.Pairs(), Is.EqualTo(new[] { new PreferencePair("1+1=", "2", "3"), new PreferencePair("2+2=", "4", "5") }));
        Assert.That(reopened.DiscardedPartialLine, Is.False);
    }

    [Test]
    public void UnfinishedLastLine_IsDiscarded_AndTheLogStaysAppendable()
    {
        string path = _files.Write("judgments.jsonl",
            "{\"item\":1,\"decision\":\"a\",\"prompt\":\"1+1=\",\"a\":\"2\",\"b\":\"3\"}\n{\"item\":2,\"decision\":\"b\",\"pro");
        using (var log = JudgmentLog.Open(path, Items))
        {
            Assert.That(log.DiscardedPartialLine, Is.True);
            Assert.That(log.Live.Select(j => j.Item), Is.EqualTo(new[] { 1 }));
            log.Record(2, LabelDecision.A);
        }
        Assert.That(File.ReadAllLines(path), Has.Length.EqualTo(2));
        using var again = JudgmentLog.Open(path, Items);
        Assert.That(again.Live.Select(j => j.Item), Is.EqualTo(new[] { 1, 2 }));
    }

    [TestCase("{\"item\":1,\"decision\":\"a\",\"prompt\":\"1+1=\",\"a\":\"2\",\"b\":\"4\"}", "line 1: item 1 differs from item 1 of the input file")]
    [TestCase("{\"item\":4,\"decision\":\"a\",\"prompt\":\"1+1=\",\"a\":\"2\",\"b\":\"3\"}", "line 1: field \"item\" is 4, but the input file has items 1 to 3")]
    [TestCase("{\"item\":\"1\",\"decision\":\"a\"}", "line 1: field \"item\" is missing or not an integer")]
    [TestCase("{\"item\":1,\"decision\":\"maybe\",\"prompt\":\"1+1=\",\"a\":\"2\",\"b\":\"3\"}", "line 1: field \"decision\" is 'maybe'")]
    [TestCase("{\"item\":1,\"decision\":\"undo\"}", "line 1: undoes item 1, but the latest judgment is none")]
    public void BadLog_NamesTheLine(string line, string expected)
    {
        string path = _files.Write("judgments.jsonl", line + "\n");
        var e = Assert.Throws<DataFormatException>(() => JudgmentLog.Open(path, Items))!;
        Assert.That(e.Message, Does.StartWith(path + " " + expected));
    }

    [Test]
    public void DoubleJudgment_WithoutUndo_IsRefused()
    {
        string j1 = "{\"item\":1,\"decision\":\"a\",\"prompt\":\"1+1=\",\"a\":\"2\",\"b\":\"3\"}\n";
        string path = _files.Write("judgments.jsonl", j1 + j1);
        Assert.That(() => JudgmentLog.Open(path, Items), Throws.TypeOf<DataFormatException>().With.Message.Contains("line 2: judges item 1 a second time"));
        using var log = JudgmentLog.Open(_files.Missing("fresh.jsonl"), Items);
        log.Record(1, LabelDecision.A);
        Assert.That(() => log.Record(1, LabelDecision.B), Throws.InvalidOperationException);
        Assert.That(log.Undo(), Is.Not.Null);
        Assert.That(log.Undo(), Is.Null, "nothing left to undo");
    }
}
