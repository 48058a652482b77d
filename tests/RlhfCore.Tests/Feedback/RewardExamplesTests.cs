using RlhfCore.Data;
using RlhfCore.Feedback;

namespace RlhfCore.Tests.Feedback;

/// <summary>Tokenizing feedback for a reward model: EOS, the prompt-overflow policy, vocabulary checks.</summary>
public class RewardExamplesTests
{
    private static readonly ByteTokenizer Tok = ByteTokenizer.Instance;

    private static FeedbackRecord Pair(string prompt, string chosen, string rejected) =>
        new PreferencePair(prompt, chosen, rejected) { FilePath = "prefs.jsonl", Line = 4 };

    private static List<RewardExample> Tokenize(FeedbackRecord r, int seqLen, PromptOverflow overflow, List<string>? skipped = null, bool eos = true) =>
        RewardExamples.Tokenize([r], Tok, seqLen, overflow, eos, 260, skipped);

    [Test]
    public void SequencesArePromptThenCompletionThenEos()
    {
        var ex = Tokenize(Pair("ab", "c", "de"), 8, PromptOverflow.Error).Single();
        Assert.That(ex.Kind, Is.EqualTo(FeedbackKind.Pairs));
        Assert.That(ex.Sequences, Is.EqualTo(new[] { new[] { 'a', 'b', 'c', 256 }, new[] { 'a', 'b', 'd', 'e', 256 } }));
        Assert.That(Tokenize(Pair("ab", "c", "de"), 8, PromptOverflow.Error, eos: false).Single().Sequences[0], Is.EqualTo(new[] { 'a', 'b', 'c' }));
        Assert.That(ex.Source, Is.EqualTo("prefs.jsonl line 4"));
    }

    [Test]
    public void RatingsAndApprovalsCarryTheirTargets()
    {
        var examples = RewardExamples.Tokenize([new RatedCompletion("p", "c", 2.5), new LabeledCompletion("p", "c", true), new LabeledCompletion("p", "d", false)],
            Tok, 8, PromptOverflow.Error, true, 260);
        Assert.That(examples.Select(e => e.Target), Is.EqualTo(new[] { 2.5, 1, 0 }));
        Assert.That(examples.Select(e => e.Kind), Is.EqualTo(new[] { FeedbackKind.Ratings, FeedbackKind.Approvals, FeedbackKind.Approvals }));
    }

    [Test]
    public void TooLongPromptIsAnErrorNamingTheLine()
    {
        var e = Assert.Throws<DataFormatException>(() => Tokenize(Pair("abcdef", "x", "yz"), 6, PromptOverflow.Error));
        Assert.That(e!.Message, Is.EqualTo("prefs.jsonl line 4: field \"prompt\" is too long: prompt (6 tokens) + longest completion (3 tokens) is 9 tokens, more than the sequence length 6 (truncate the prompt from the left or skip such records with the overflow policy)"));
    }

    [Test]
    public void TruncateLeftDropsTheOldestPromptTokens()
    {
        var ex = Tokenize(Pair("abcdef", "x", "yz"), 6, PromptOverflow.TruncateLeft).Single();
        Assert.That(ex.Sequences, Is.EqualTo(new[] { new[] { 'd', 'e', 'f', 'x', 256 }, new[] { 'd', 'e', 'f', 'y', 'z', 256 } }));
        var e = Assert.Throws<DataFormatException>(() => Tokenize(Pair("ab", "x", "yzyzyz"), 6, PromptOverflow.TruncateLeft));
        Assert.That(e!.Message, Does.StartWith("prefs.jsonl line 4: field \"completion\" is too long: 7 tokens alone exceed the sequence length 6"));
    }

    [Test]
    public void SkipLeavesTheRecordOutAndListsIt()
    {
        var skipped = new List<string>();
        Assert.That(Tokenize(Pair("abcdef", "x", "yz"), 6, PromptOverflow.Skip, skipped), Is.Empty);
        Assert.That(skipped, Is.EqualTo(new[] { "prefs.jsonl line 4: prompt (6 tokens) + longest completion (3 tokens) is 9 tokens, more than the sequence length 6" }));
    }

    [Test]
    public void TokensOutsideTheModelVocabularyAreAnError()
    {
        var e = Assert.Throws<DataFormatException>(() => RewardExamples.Tokenize([Pair("a", "b", "c")], Tok, 8, PromptOverflow.Error, true, 100));
        Assert.That(e!.Message, Does.Contain("outside the model vocabulary [0, 100)"));
    }

    [Test]
    public void InMemoryRecordsAreCheckedAndNamedByPosition()
    {
        var e = Assert.Throws<DataFormatException>(() => RewardExamples.Tokenize(
            [new RankedCompletions("p", ["a", "b"]), new RankedCompletions("p", ["a", "b", "b"])], Tok, 8, PromptOverflow.Error, true, 260));
        Assert.That(e!.Message, Is.EqualTo("in-memory feedback line 2: field \"completions\" entries 1 and 2 are the same completion; a ranking cannot order a completion against itself"));
    }
}
