using RlhfCore.Data;

namespace RlhfCore.Tests.Data;

public class PackedStreamBatcherTests
{
    [Test]
    public void Windows_OverlapByOne_AndEveryPositionIsReal()
    {
        // Stream 0..10 (11 tokens), T = 4: windows [0..4] and [4..8]; 9, 10 do not fill a window.
        int[] stream = Enumerable.Range(0, 11).ToArray();
        var batcher = new PackedStreamBatcher(stream, batchSize: 2, seqLen: 4, vocabSize: 11, seed: 0, shuffle: false);
        Assert.That(batcher.WindowCount, Is.EqualTo(2));
        var b = new SftBatch(2, 4);
        batcher.Next(b);
        Assert.That(b.Tokens, Is.EqualTo(new[] { 0, 1, 2, 3, 4, 5, 6, 7 }));
        Assert.That(b.Targets, Is.EqualTo(new[] { 1, 2, 3, 4, 5, 6, 7, 8 }));
        Assert.That(b.Positions, Is.EqualTo(new[] { 0, 1, 2, 3, 0, 1, 2, 3 }));
        Assert.That(b.LossMask, Is.All.EqualTo(1f));
        Assert.That(b.AttentionMask, Is.All.EqualTo(1));
        Assert.That(b.LossTokenCount, Is.EqualTo(8));
    }

    [Test]
    public void BuildStream_JoinsDocumentsWithEos()
    {
        var docs = new[] { "ab", "c" }.Select((t, i) =>
            SftExample.FromRecord(new SftRecord("", t, true, "d.jsonl", i + 1), ByteTokenizer.Instance, 8, OverlongPolicy.Error, 260));
        Assert.That(PackedStreamBatcher.BuildStream(docs), Is.EqualTo(new[] { 'a', 'b', 256, 'c', 256 }));
    }

    [Test]
    public void BuildStream_RejectsPromptCompletionExamples()
    {
        var ex = SftExample.FromRecord(new SftRecord("q", "a", false, "d.jsonl", 3), ByteTokenizer.Instance, 8, OverlongPolicy.Error, 260);
        var e = Assert.Throws<DataFormatException>(() => PackedStreamBatcher.BuildStream([ex]))!;
        Assert.That(e.Message, Does.StartWith("d.jsonl line 3: field \"prompt\" is set, but packed batches train on every token"));
    }

    [Test]
    public void TokenOutsideVocabulary_NamesIdAndPosition()
    {
        var e = Assert.Throws<ArgumentException>(() => new PackedStreamBatcher([1, 2, 300, 4, 5], 1, 2, 260, 0))!;
        Assert.That(e.Message, Does.StartWith("token id 300 at stream position 2 is outside the vocabulary [0, 260)"));
    }

    [Test]
    public void StreamShorterThanOneWindow_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new PackedStreamBatcher([1, 2, 3, 4], 1, 4, 260, 0));
    }

    [Test]
    public void TinyShakespeare_ShuffledResume_MatchesUninterrupted()
    {
        var tok = ByteTokenizer.Instance;
        var ids = new List<int>();
        tok.Encode(File.ReadAllText(TestData.Require("tinyshakespeare/input.txt")), ids);
        ids.Add(tok.EndOfText);
        int[] stream = ids.ToArray();

        PackedStreamBatcher New() => new(stream, 4, 64, tok.VocabSize, seed: 3);
        var full = New();
        var b = new SftBatch(4, 64);
        var expected = new List<int[]>();
        for (int i = 0; i < 6; i++) { full.Next(b); expected.Add((int[])b.Tokens.Clone()); }

        var part = New();
        for (int i = 0; i < 2; i++) part.Next(b);
        var resumed = New();
        resumed.Cursor = part.Cursor;
        for (int i = 2; i < 6; i++) { resumed.Next(b); Assert.That(b.Tokens, Is.EqualTo(expected[i]), $"batch {i}"); }
        Assert.That(tok.Decode(b.Tokens.AsSpan(0, 64)), Is.Not.Empty);
    }
}
