using RlhfCore.Data;

namespace RlhfCore.Tests.Data;

/// <summary>Tokenization and completion-only loss masks, worked by hand with the byte tokenizer (id = byte, EOS 256).</summary>
public class SftExampleTests
{
    private static readonly ByteTokenizer Bytes = ByteTokenizer.Instance;

    private static SftExample Make(string prompt, string completion, int context = 16, OverlongPolicy overlong = OverlongPolicy.Error, int vocab = 260) =>
        SftExample.FromRecord(new SftRecord(prompt, completion, prompt.Length == 0, "d.jsonl", 7), Bytes, context, overlong, vocab);

    [Test]
    public void PromptCompletion_MasksOnlyCompletionTargets()
    {
        // Tokens a b | c d EOS. Targets (next tokens) are b, c, d, EOS: b is prompt, the rest completion.
        var ex = Make("ab", "cd");
        Assert.That(ex.Tokens, Is.EqualTo(new[] { 'a', 'b', 'c', 'd', 256 }));
        Assert.That(ex.LossMask, Is.EqualTo(new[] { false, true, true, true }));
        Assert.That(ex.InputLength, Is.EqualTo(4));
        Assert.That(ex.PromptLength, Is.EqualTo(2));
    }

    [Test]
    public void Text_TrainsOnEveryTarget()
    {
        var ex = Make("", "hi");
        Assert.That(ex.Tokens, Is.EqualTo(new[] { 'h', 'i', 256 }));
        Assert.That(ex.LossMask, Is.EqualTo(new[] { true, true }));
        Assert.That(ex.PromptLength, Is.EqualTo(0));
    }

    [Test]
    public void Gpt2_PromptAndCompletion_AreTokenizedSeparately()
    {
        // " world" alone is 995; "Hello" is 15496; the boundary stays exactly where the prompt ends.
        var ex = SftExample.FromRecord(new SftRecord("Hello", " world", false, "d.jsonl", 1), Gpt2Fixture.Tokenizer, 8, OverlongPolicy.Error, 50257);
        Assert.That(ex.Tokens, Is.EqualTo(new[] { 15496, 995, 50256 }));
        Assert.That(ex.LossMask, Is.EqualTo(new[] { true, true }));
        var ex2 = SftExample.FromRecord(new SftRecord("Hello world", "!", false, "d.jsonl", 1), Gpt2Fixture.Tokenizer, 8, OverlongPolicy.Error, 50257);
        Assert.That(ex2.LossMask, Is.EqualTo(new[] { false, true, true }));
    }

    [Test]
    public void Overlong_Error_NamesFileAndLine()
    {
        // "hello" + EOS is 6 tokens; a context of 4 takes at most 5.
        var e = Assert.Throws<DataFormatException>(() => Make("", "hello", context: 4))!;
        Assert.That(e.Message, Is.EqualTo("d.jsonl line 7: the example is 6 tokens, longer than the context of 4 + 1 (raise --seq-len, or cut it with --overlong Truncate)"));
    }

    [Test]
    public void Overlong_Truncate_KeepsTheFirstContextPlusOneTokens()
    {
        var ex = Make("ab", "cdef", context: 3, overlong: OverlongPolicy.Truncate);
        Assert.That(ex.Tokens, Is.EqualTo(new[] { 'a', 'b', 'c', 'd' }));
        Assert.That(ex.LossMask, Is.EqualTo(new[] { false, true, true }));
    }

    [Test]
    public void ExactFit_IsAccepted()
    {
        Assert.That(Make("", "abc", context: 3).Tokens.Length, Is.EqualTo(4));
    }

    [Test]
    public void TokenOutsideModelVocabulary_NamesFieldAndId()
    {
        // The byte tokenizer maps "<|user|>" to 258; a model with 257 ids cannot take it.
        var e = Assert.Throws<DataFormatException>(() => Make("", "hi<|user|>", vocab: 257))!;
        Assert.That(e.Message, Is.EqualTo("d.jsonl line 7: field \"text\" has token id 258, outside the model vocabulary [0, 257)"));
        var p = Assert.Throws<DataFormatException>(() => Make("<|assistant|>", "x", vocab: 257))!;
        Assert.That(p.Message, Does.StartWith("d.jsonl line 7: field \"prompt\" has token id 259"));
    }

    [Test]
    public void EndOfTextOutsideModelVocabulary_IsRejected()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => Make("", "x", vocab: 256))!.Message, Does.Contain("256"));
    }
}
