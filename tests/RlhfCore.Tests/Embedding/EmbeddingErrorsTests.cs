using System.Text;
using RlhfCore.Backends.Native;
using RlhfCore.Embedding;
using RlhfCore.IO;

namespace RlhfCore.Tests.Embedding;

/// <summary>The managed half of the C API's error handling: status codes, and the message copy behind rlhf_last_error.</summary>
public sealed class EmbeddingErrorsTests
{
    private static IEnumerable<TestCaseData> Statuses()
    {
        yield return new TestCaseData(new ArgumentException("x"), 1);
        yield return new TestCaseData(new InvalidOperationException("x"), 1);
        yield return new TestCaseData(new BadHandleException("x"), 2);
        yield return new TestCaseData(new CudaUnavailableException("x"), 4);
        yield return new TestCaseData(new FileNotFoundException("x"), 5);
        yield return new TestCaseData(new SafetensorsException("m.safetensors", null, "x"), 5);
        yield return new TestCaseData(new BufferTooSmallException("x"), 6);
        yield return new TestCaseData(new OutOfMemoryException("x"), 7);
        yield return new TestCaseData(new NonFiniteException("x"), 9);
        yield return new TestCaseData(new NullReferenceException("x"), 10);
    }

    [TestCaseSource(nameof(Statuses))]
    public void Fail_MapsTheExceptionToItsStatus_AndKeepsTheMessage(Exception e, int status)
    {
        Assert.That(EmbeddingErrors.Fail(e, "rlhf_test"), Is.EqualTo(status));
        Assert.That(EmbeddingErrors.LastError, Does.StartWith("rlhf_test: "));
        if (status == 10) Assert.That(EmbeddingErrors.LastError, Does.Contain("internal error NullReferenceException"));
    }

    [Test]
    public unsafe void CopyTo_TruncatesOnACharacterBoundary_AndEndsWithNul()
    {
        EmbeddingErrors.Fail(new ArgumentException("ab€"), "f"); // "f: ab€": € is 3 UTF-8 bytes
        byte* buffer = stackalloc byte[16];
        new Span<byte>(buffer, 16).Fill(0xAA);
        int n = EmbeddingErrors.CopyTo(buffer, 7); // room for 6 bytes: "f: ab" plus 1 byte of € would split it
        Assert.That(Encoding.UTF8.GetString(buffer, n), Is.EqualTo("f: ab"));
        Assert.That(buffer[n], Is.Zero);
        n = EmbeddingErrors.CopyTo(buffer, 16);
        Assert.That(Encoding.UTF8.GetString(buffer, n), Is.EqualTo("f: ab€"));
        Assert.That(buffer[n], Is.Zero);
    }

    [Test]
    public void Messages_ArePerThread()
    {
        EmbeddingErrors.Fail(new ArgumentException("here"), "f");
        string? other = null;
        var thread = new Thread(() => other = EmbeddingErrors.LastError);
        thread.Start();
        thread.Join();
        Assert.That(other, Is.Empty);
        Assert.That(EmbeddingErrors.LastError, Is.EqualTo("f: here"));
    }

    [Test]
    public void OptimizerSettings_ParseCommasAndSpaces_OverDefaults()
    {
        var o = OptimizerSettings.Parse("adamw", "beta1=0.8, eps=1e-6 weight_decay=0");
        Assert.That(o.Kind, Is.EqualTo(RlhfCore.Optim.OptimizerKind.AdamW));
        Assert.That(o.AdamW, Is.EqualTo(new RlhfCore.Optim.AdamWOptions(Beta1: 0.8f, Eps: 1e-6f, WeightDecay: 0)));
        Assert.That(OptimizerSettings.Parse("adamw", null).AdamW, Is.EqualTo(new RlhfCore.Optim.AdamWOptions()));
        Assert.That(() => OptimizerSettings.Parse("adamw", "beta1=0.8,beta1=0.7"), Throws.ArgumentException.With.Message.Contains("given twice"));
        Assert.That(() => OptimizerSettings.Parse("adamw", "eps=tiny"), Throws.ArgumentException.With.Message.Contains("'tiny' is not a number"));
    }

    [Test]
    public void OptimizerSettings_NameEachRule_WithItsOwnKeys()
    {
        var sgd = OptimizerSettings.Parse("sgd", "momentum=0.5 nesterov=1 weight_decay=0.01");
        Assert.That((sgd.Kind, sgd.Sgd, sgd.AdamW.WeightDecay), Is.EqualTo((RlhfCore.Optim.OptimizerKind.Sgd, new RlhfCore.Optim.SgdOptions(0.5f, true), 0.01f)));
        var lion = OptimizerSettings.Parse("lion", "beta1=0.8,beta2=0.9");
        Assert.That((lion.Kind, lion.Lion, lion.AdamW), Is.EqualTo((RlhfCore.Optim.OptimizerKind.Lion, new RlhfCore.Optim.LionOptions(0.8f, 0.9f), new RlhfCore.Optim.AdamWOptions())));
        var muon = OptimizerSettings.Parse("muon", "momentum=0.9 beta2=0.99");
        Assert.That((muon.Kind, muon.Muon.Momentum, muon.AdamW.Beta2), Is.EqualTo((RlhfCore.Optim.OptimizerKind.Muon, 0.9f, 0.99f)));
        Assert.That(() => OptimizerSettings.Parse("lion", "eps=1e-8"), Throws.ArgumentException.With.Message.Contains("unknown lion setting 'eps'"));
        Assert.That(() => OptimizerSettings.Parse("sgd", "nesterov=2"), Throws.ArgumentException.With.Message.Contains("nesterov must be 0 or 1"));
        var adafactor = OptimizerSettings.Parse("adafactor", "beta1=0.9 decay_rate=0.7 clip_threshold=2 eps1=1e-20 eps2=1e-2 scale_parameter=1 relative_step=1 weight_decay=0");
        Assert.That((adafactor.Kind, adafactor.Adafactor, adafactor.AdamW.WeightDecay),
            Is.EqualTo((RlhfCore.Optim.OptimizerKind.Adafactor, new RlhfCore.Optim.AdafactorOptions(0.9f, 0.7f, 2f, 1e-20f, 1e-2f, true, true), 0f)));
        Assert.That(OptimizerSettings.Parse("adafactor", null).Adafactor, Is.EqualTo(new RlhfCore.Optim.AdafactorOptions()));
        Assert.That(() => OptimizerSettings.Parse("adafactor", "relative_step=2"), Throws.ArgumentException.With.Message.Contains("relative_step must be 0 or 1"));
        Assert.That(() => OptimizerSettings.Parse("rmsprop", null), Throws.ArgumentException.With.Message.Contains("the engine has adamw, sgd, lion, muon, adafactor"));
    }
}
