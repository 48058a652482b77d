using System.Text.Json;
using RlhfCore.Data;

namespace RlhfCore.Tests.Data;

public class SftRowBatcherTests
{
    private static SftExample Make(string prompt, string completion, int line = 1) =>
        SftExample.FromRecord(new SftRecord(prompt, completion, prompt.Length == 0, "d.jsonl", line), ByteTokenizer.Instance, 32, OverlongPolicy.Error, 260);

    [Test]
    public void Rows_AreRightPadded_WithShiftedTargetsAndMasks()
    {
        const int P = 257, E = 256;
        var batcher = new SftRowBatcher([Make("ab", "cd"), Make("", "hi")], batchSize: 2, seqLen: 6, seed: 0, padId: P, shuffle: false);
        var b = new SftBatch(2, 6);
        batcher.Next(b);
        // Row 0: a b c d | pad pad; targets b(prompt → -1) c d EOS. Row 1: h i | pad ×4; targets i EOS.
        Assert.That(b.Tokens, Is.EqualTo(new[] { 'a', 'b', 'c', 'd', P, P, 'h', 'i', P, P, P, P }));
        Assert.That(b.Targets, Is.EqualTo(new[] { -1, 'c', 'd', E, -1, -1, 'i', E, -1, -1, -1, -1 }));
        Assert.That(b.LossMask, Is.EqualTo(new[] { 0f, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0 }));
        Assert.That(b.AttentionMask, Is.EqualTo(new[] { 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0 }));
        Assert.That(b.Positions, Is.EqualTo(new[] { 0, 1, 2, 3, 0, 0, 0, 1, 0, 0, 0, 0 }));
        Assert.That(b.LossTokenCount, Is.EqualTo(5));
    }

    [Test]
    public void ExampleLongerThanRow_NamesFileAndLine()
    {
        var e = Assert.Throws<DataFormatException>(() => new SftRowBatcher([Make("", "hello", line: 12)], 1, 4, 0, 257))!;
        Assert.That(e.Message, Is.EqualTo("d.jsonl line 12: the example needs 5 positions, more than the batch's 4"));
    }

    [Test]
    public void BatchOfWrongShape_IsRejected()
    {
        var batcher = new SftRowBatcher([Make("", "a")], 2, 4, 0, 257);
        Assert.Throws<ArgumentException>(() => batcher.Next(new SftBatch(2, 5)));
    }

    private static List<SftExample> Numbered(int n) => Enumerable.Range(0, n).Select(i => Make("", $"{i:D2}", line: i + 1)).ToList();

    // Which example fills each row, read back from the batch ("07" + EOS → line 8).
    private static IEnumerable<int> RowExamples(SftBatch b) =>
        Enumerable.Range(0, b.BatchSize).Select(r => (b.Tokens[r * b.SeqLen] - '0') * 10 + b.Tokens[r * b.SeqLen + 1] - '0');

    private static List<int> Draw(SftRowBatcher batcher, int batches)
    {
        var b = new SftBatch(batcher.BatchSize, batcher.SeqLen);
        var seen = new List<int>();
        for (int i = 0; i < batches; i++) { batcher.Next(b); seen.AddRange(RowExamples(b)); }
        return seen;
    }

    [Test]
    public void Shuffle_IsDeterministicPerSeed_AndEachEpochIsAPermutation()
    {
        var data = Numbered(10);
        var a = Draw(new SftRowBatcher(data, 2, 4, seed: 42, padId: 257), 10);
        var again = Draw(new SftRowBatcher(data, 2, 4, seed: 42, padId: 257), 10);
        var other = Draw(new SftRowBatcher(data, 2, 4, seed: 43, padId: 257), 10);
        Assert.That(again, Is.EqualTo(a));
        Assert.That(other, Is.Not.EqualTo(a));
        Assert.That(a.Take(10), Is.EquivalentTo(Enumerable.Range(0, 10)));
        Assert.That(a.Skip(10), Is.EquivalentTo(Enumerable.Range(0, 10)));
        Assert.That(a.Skip(10), Is.Not.EqualTo(a.Take(10)), "each epoch has its own order");
        Assert.That(a.Take(10), Is.Not.EqualTo(Enumerable.Range(0, 10)), "shuffled");
    }

    [Test]
    public void Resume_FromSavedCursor_ContinuesExactly()
    {
        // 7 examples, batches of 3: batch 3 straddles the epoch boundary.
        var data = Numbered(7);
        var uninterrupted = Draw(new SftRowBatcher(data, 3, 4, 5, 257), 6);

        var first = new SftRowBatcher(data, 3, 4, 5, 257);
        var head = Draw(first, 3);
        string saved = JsonSerializer.Serialize(first.Cursor);
        Assert.That(saved, Is.EqualTo("{\"Epoch\":1,\"Index\":2}"));

        var resumed = new SftRowBatcher(data, 3, 4, 5, 257) { Cursor = JsonSerializer.Deserialize<DataCursor>(saved) };
        Assert.That(head.Concat(Draw(resumed, 3)), Is.EqualTo(uninterrupted));
    }

    [Test]
    public void Cursor_OutOfRange_IsRejected()
    {
        var batcher = new SftRowBatcher(Numbered(3), 1, 4, 0, 257);
        Assert.Throws<ArgumentOutOfRangeException>(() => batcher.Cursor = new DataCursor(0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => batcher.Cursor = new DataCursor(-1, 0));
    }
}
