using RlhfCore.Feedback;

namespace RlhfCore.Tests.Feedback;

/// <summary>HH prompt extraction: the longest shared prefix ending at the last <c>\n\nAssistant:</c>.</summary>
public class TranscriptSplitterTests
{
    private const string H = "\n\nHuman: ", A = "\n\nAssistant:";

    private static (string, string, string) Split(string chosen, string rejected) =>
        TranscriptSplitter.Split(chosen, rejected, out string? problem) ?? throw new AssertionException(problem!);

    [Test]
    public void SingleTurn()
    {
        var (p, c, r) = Split(H + "hi" + A + " Hello!", H + "hi" + A + " Go away.");
        Assert.That((p, c, r), Is.EqualTo((H + "hi" + A, " Hello!", " Go away.")));
    }

    [Test]
    public void MultiTurnUsesTheLastSharedMarker()
    {
        string context = H + "a" + A + " b" + H + "c" + A;
        var (p, c, r) = Split(context + " yes", context + " no");
        Assert.That((p, c, r), Is.EqualTo((context, " yes", " no")));
    }

    [Test]
    public void CompletionsThatShareTheirStartKeepIt()
    {
        // The shared prefix runs past the marker into " I"; the prompt still ends at the marker.
        var (p, c, r) = Split(H + "q" + A + " I can help.", H + "q" + A + " I cannot.");
        Assert.That((p, c, r), Is.EqualTo((H + "q" + A, " I can help.", " I cannot.")));
    }

    [Test]
    public void MarkerInsideOneCompletionIsNotThePrompt()
    {
        // The chosen response goes on to play both roles; its own marker lies past the shared prefix.
        string prompt = H + "q" + A;
        var (p, c, r) = Split(prompt + " Sure." + H + "more" + A + " ok", prompt + " No.");
        Assert.That((p, c, r), Is.EqualTo((prompt, " Sure." + H + "more" + A + " ok", " No.")));
    }

    [Test]
    public void MarkerInsideBothCompletionsAfterTheyDiffer()
    {
        string prompt = H + "q" + A;
        var (p, c, r) = Split(prompt + " x" + H + "y" + A + " z", prompt + " w" + H + "y" + A + " z");
        Assert.That(p, Is.EqualTo(prompt));
        Assert.That((c, r), Is.EqualTo((" x" + H + "y" + A + " z", " w" + H + "y" + A + " z")));
    }

    [Test]
    public void OneTranscriptExtendingTheOther()
    {
        string prompt = H + "q" + A;
        var (p, c, r) = Split(prompt + " Yes", prompt + " Yes, and more");
        Assert.That((p, c, r), Is.EqualTo((prompt, " Yes", " Yes, and more")));
    }

    [Test]
    public void IdenticalTranscriptsGiveIdenticalCompletions()
    {
        // The reader then rejects the pair as chosen == rejected.
        string t = H + "q" + A + " same";
        Assert.That(Split(t, t), Is.EqualTo((H + "q" + A, " same", " same")));
    }

    [Test]
    public void MarkerCutByTheDivergenceIsNotUsed()
    {
        // The transcripts differ inside the marker itself, so no whole marker is shared.
        Assert.That(TranscriptSplitter.Split(H + "q\n\nAssistant: a", H + "q\n\nAssist: b", out string? problem), Is.Null);
        Assert.That(problem, Does.Contain("no \\n\\nAssistant: marker"));
    }

    [Test]
    public void NoSharedMarkerIsAProblem()
    {
        Assert.That(TranscriptSplitter.Split("Hello there", "Hello you", out string? problem), Is.Null);
        Assert.That(problem, Does.Contain("no \\n\\nAssistant: marker"));
        Assert.That(TranscriptSplitter.Split("abc", "xyz", out problem), Is.Null);
        Assert.That(problem, Does.Contain("share no prefix"));
    }
}
