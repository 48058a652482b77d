using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Tests.Data;

namespace RlhfCore.Tests.Feedback;

/// <summary>Reading each feedback layout, detecting it, and one clear error per kind of bad input.</summary>
public class FeedbackReaderTests
{
    private TempFiles _files = null!;

    [SetUp] public void SetUp() => _files = new TempFiles();
    [TearDown] public void TearDown() => _files.Dispose();

    private FeedbackSet Read(string content, FeedbackKind? kind = null, bool skip = false, string name = "f.jsonl") =>
        FeedbackReader.Read(_files.Write(name, content), kind, skip);

    private string Error(string content, FeedbackKind? kind = null, string name = "f.jsonl")
    {
        string path = _files.Write(name, content);
        var e = Assert.Throws<DataFormatException>(() => FeedbackReader.Read(path, kind));
        return e!.Message.Replace(path, "FILE");
    }

    [Test]
    public void ReadsPairsWithOptionalMargin()
    {
        var set = Read("{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}\n\n{\"prompt\":\"q\",\"chosen\":\"c\",\"rejected\":\"d\",\"margin\":1.5,\"extra\":3}\n");
        Assert.That(set.Kind, Is.EqualTo(FeedbackKind.Pairs));
        Assert.That(set.Records, Is.EqualTo(new FeedbackRecord[]
        {
            new PreferencePair("p", "a", "b") { FilePath = set.Records[0].FilePath, Line = 1 },
            new PreferencePair("q", "c", "d", 1.5) { FilePath = set.Records[0].FilePath, Line = 3 },
        }));
    }

    [Test]
    public void ReadsGzippedTranscripts()
    {
        var set = Read("{\"chosen\":\"\\n\\nHuman: hi\\n\\nAssistant: yo\",\"rejected\":\"\\n\\nHuman: hi\\n\\nAssistant: no\"}\n", name: "hh.jsonl.gz");
        Assert.That(set.Kind, Is.EqualTo(FeedbackKind.Transcripts));
        var p = (PreferencePair)set.Records[0];
        Assert.That((p.Prompt, p.Chosen, p.Rejected), Is.EqualTo(("\n\nHuman: hi\n\nAssistant:", " yo", " no")));
    }

    [Test]
    public void ReadsRankingsRatingsAndApprovals()
    {
        var r = (RankedCompletions)Read("{\"prompt\":\"p\",\"completions\":[\"best\",\"mid\",\"worst\"]}").Records[0];
        Assert.That(r.Ranked, Is.EqualTo(new[] { "best", "mid", "worst" }));
        var rating = Read("{\"prompt\":\"p\",\"completion\":\"c\",\"rating\":-2.5}");
        Assert.That(rating.Kind, Is.EqualTo(FeedbackKind.Ratings));
        Assert.That(((RatedCompletion)rating.Records[0]).Rating, Is.EqualTo(-2.5));
        var approval = Read("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":false}\n{\"prompt\":\"p\",\"completion\":\"d\",\"label\":true}");
        Assert.That(approval.Kind, Is.EqualTo(FeedbackKind.Approvals));
        Assert.That(approval.Records.Cast<LabeledCompletion>().Select(l => l.Approved), Is.EqualTo(new[] { false, true }));
    }

    [Test]
    public void ExplicitKindReadsEveryLineThatWay()
    {
        // With --kind pairs a transcript line is a pair missing its prompt.
        Assert.That(Error("{\"chosen\":\"a\",\"rejected\":\"b\"}", FeedbackKind.Pairs), Is.EqualTo("FILE line 1: field \"prompt\" is missing"));
        Assert.That(FeedbackReader.ParseKind("auto"), Is.Null);
        Assert.That(FeedbackReader.ParseKind("Rankings"), Is.EqualTo(FeedbackKind.Rankings));
        Assert.That(Assert.Throws<ArgumentException>(() => FeedbackReader.ParseKind("votes"))!.Message, Does.Contain("auto, pairs, transcripts, rankings, ratings, approvals"));
    }

    [Test]
    public void MixedFileIsOneError() =>
        Assert.That(Error("{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}\n{\"prompt\":\"p\",\"completion\":\"c\",\"rating\":1}"),
            Is.EqualTo("FILE line 2: is a ratings record but the file's first line is pairs; a feedback file holds one kind"));

    [Test]
    public void UnknownLayoutAndEmptyFile()
    {
        Assert.That(Error("{\"text\":\"hello\"}"), Does.StartWith("FILE line 1: has keys {\"text\"}, which match no feedback layout"));
        Assert.That(Error("\n\n"), Is.EqualTo("FILE: holds no feedback records"));
    }

    /// <summary>What a bad-content error adds: the flag that skips such records instead.</summary>
    private const string SkipHint = "; --skip-invalid leaves such records out and lists them";

    [TestCase("{\"prompt\":\"p\",\"chosen\":\"same\",\"rejected\":\"same\"}", "field \"rejected\" is identical to \"chosen\"; a preference needs two different completions" + SkipHint)]
    [TestCase("{\"prompt\":\"p\",\"chosen\":\"\",\"rejected\":\"b\"}", "field \"chosen\" is empty (a completion needs at least one non-blank character)" + SkipHint)]
    [TestCase("{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"  \"}", "field \"rejected\" is empty (a completion needs at least one non-blank character)" + SkipHint)]
    [TestCase("{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\",\"margin\":\"big\"}", "field \"margin\" is not a number (got the string \"big\")")]
    [TestCase("{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":7}", "field \"rejected\" is not a string (got Number)")]
    [TestCase("{\"chosen\":\"\\n\\nHuman: x\\n\\nAssistant: a\",\"rejected\":\"\\n\\nHuman: x\\n\\nAssistant: a\"}", "field \"rejected\" is identical to \"chosen\"; a preference needs two different completions" + SkipHint)]
    [TestCase("{\"chosen\":\"Hello a\",\"rejected\":\"Hello b\"}", "the transcripts' shared prefix has no \\n\\nAssistant: marker, so the prompt cannot be found")]
    [TestCase("{\"chosen\":\"\\n\\nHuman: x\\n\\nAssistant: a\",\"rejected\":\"\\n\\nHuman: x\\n\\nAssistant:\"}", "field \"rejected\" is empty (a completion needs at least one non-blank character)" + SkipHint)]
    [TestCase("{\"prompt\":\"p\",\"completions\":[\"a\",\"b\",\"a\"]}", "field \"completions\" entries 0 and 2 are the same completion; a ranking cannot order a completion against itself" + SkipHint)]
    [TestCase("{\"prompt\":\"p\",\"completions\":[\"a\"]}", "field \"completions\" has 1 completion(s); a ranking needs at least 2" + SkipHint)]
    [TestCase("{\"prompt\":\"p\",\"completions\":[\"a\",\"\"]}", "field \"completions\" entry 1 is empty (a completion needs at least one non-blank character)" + SkipHint)]
    [TestCase("{\"prompt\":\"p\",\"completions\":\"a\"}", "field \"completions\" is not an array (got String)")]
    [TestCase("{\"prompt\":\"p\",\"completions\":[\"a\",3]}", "field \"completions\" entry 1 is not a string (got Number)")]
    [TestCase("{\"prompt\":\"p\",\"completion\":\"c\",\"rating\":\"good\"}", "field \"rating\" is not a number (got the string \"good\")")]
    [TestCase("{\"prompt\":\"p\",\"completion\":\"c\",\"rating\":null}", "field \"rating\" is not a number (got null)")]
    [TestCase("{\"prompt\":\"p\",\"completion\":\"c\",\"rating\":1e999}", "field \"rating\" is not a finite number (got 1e999)")]
    [TestCase("{\"prompt\":\"p\",\"completion\":\"\",\"rating\":1}", "field \"completion\" is empty (a completion needs at least one non-blank character)" + SkipHint)]
    [TestCase("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":1}", "field \"label\" is not true or false (got Number 1)")]
    [TestCase("{\"prompt\":\"p\",\"completion\":\"c\",\"label\":\"yes\"}", "field \"label\" is not true or false (got the string \"yes\")")]
    public void BadInputIsOneClearErrorNamingFileLineAndField(string line, string message) =>
        Assert.That(Error(FirstGoodLine(line) + "\n" + line), Is.EqualTo("FILE line 2: " + message));

    /// <summary>A valid first line of the same layout, so the bad line is line 2 and detection sees the right kind.</summary>
    private static string FirstGoodLine(string bad) =>
        bad.Contains("\"completions\"") ? "{\"prompt\":\"p\",\"completions\":[\"x\",\"y\"]}"
        : bad.Contains("\"rating\"") ? "{\"prompt\":\"p\",\"completion\":\"x\",\"rating\":1}"
        : bad.Contains("\"label\"") ? "{\"prompt\":\"p\",\"completion\":\"x\",\"label\":true}"
        : bad.Contains("\"prompt\"") ? "{\"prompt\":\"p\",\"chosen\":\"x\",\"rejected\":\"y\"}"
        : "{\"chosen\":\"\\n\\nHuman: h\\n\\nAssistant: x\",\"rejected\":\"\\n\\nHuman: h\\n\\nAssistant: y\"}";

    [Test]
    public void SkipInvalidLeavesOutBadContentAndListsIt()
    {
        var set = Read("{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"a\"}\n{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}", skip: true);
        Assert.That(set.Records, Has.Count.EqualTo(1));
        Assert.That(set.Skipped, Has.Count.EqualTo(1));
        Assert.That(set.Skipped[0], Does.EndWith("line 1: field \"rejected\" is identical to \"chosen\"; a preference needs two different completions"));
        // Malformed lines are never skipped.
        Assert.Throws<DataFormatException>(() => Read("{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}\n{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":null}", skip: true));
    }

    [Test]
    public void ReadsTheRealHhTestSet()
    {
        string path = TestData.Require("hh-rlhf/harmless-base-test.jsonl.gz");
        // Line 87 of the real file has a chosen response that is a single space.
        var e = Assert.Throws<DataFormatException>(() => FeedbackReader.Read(path));
        Assert.That(e!.Message, Is.EqualTo($"{path} line 87: field \"chosen\" is empty (a completion needs at least one non-blank character)" + SkipHint));

        var set = FeedbackReader.Read(path, skipInvalid: true);
        Assert.That(set.Kind, Is.EqualTo(FeedbackKind.Transcripts));
        Assert.That(set.Records, Has.Count.EqualTo(2312 - 4));
        Assert.That(set.Skipped, Has.Count.EqualTo(4));
        foreach (PreferencePair p in set.Records)
        {
            Assert.That(p.Prompt, Does.StartWith("\n\nHuman: ").And.EndWith(TranscriptSplitter.AssistantMarker), p.Where);
            Assert.That(p.Chosen, Is.Not.EqualTo(p.Rejected), p.Where);
        }
        var first = (PreferencePair)set.Records[0];
        Assert.That(first.Prompt, Does.EndWith("okay some of these do not have anything to do with pens\n\nAssistant:"));
        Assert.That(first.Chosen, Does.StartWith(" No, sorry!"));
        Assert.That(first.Rejected, Does.StartWith(" There are lots of funny things"));
    }
}
