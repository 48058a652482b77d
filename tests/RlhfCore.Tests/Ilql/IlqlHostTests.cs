using RlhfCore.Data;
using RlhfCore.Rl.Ilql;
using RlhfCore.Tests.Data;

namespace RlhfCore.Tests.Ilql;

/// <summary>ILQL's settings checks, the advantage-shifted logits by hand, and the offline data reader's errors.</summary>
public class IlqlHostTests
{
    [TestCase(0.0)]
    [TestCase(1.0)]
    [TestCase(-0.2)]
    [TestCase(double.NaN)]
    public void TauOutsideTheOpenUnitIntervalIsAnError(double tau)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new IlqlSettings(Tau: tau).Validate());
        Assert.That(e!.Message, Does.Contain("--tau"));
    }

    [Test]
    public void OtherBadSettingsNameTheirFlag()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new IlqlSettings(Alpha: 0).Validate())!.Message, Does.Contain("--alpha"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new IlqlSettings(Gamma: 1.5).Validate())!.Message, Does.Contain("--gamma"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new IlqlSettings(CqlScale: -1).Validate())!.Message, Does.Contain("--cql-scale"));
        new IlqlSettings().Validate();
    }

    [Test]
    public void ShiftedLogitsByHand()
    {
        // logits [0, ln 3]: log softmax [ln ¼, ln ¾]; Q [1, 0], V 0.5, β 2: shifts [+1, −1]
        float[] logits = [0f, (float)Math.Log(3)], q = [1f, 0f], v = [0.5f];
        var o = new float[2];
        IlqlDecoding.ShiftedLogits(logits, q, v, beta: 2, B: 1, V: 2, o);
        Assert.That(o[0], Is.EqualTo(Math.Log(0.25) + 1).Within(1e-6));
        Assert.That(o[1], Is.EqualTo(Math.Log(0.75) - 1).Within(1e-6));
        Assert.That(IlqlDecoding.MinOfHeads([[1f, 5f], [2f, 3f]]), Is.EqualTo(new[] { 1f, 3f }));
    }

    [Test]
    public void RatingsAndApprovalsGiveRewards()
    {
        using var dir = new TempFiles();
        var ratings = dir.Write("r.jsonl", "{\"prompt\":\"a\",\"completion\":\"b\",\"rating\":0.25}\n{\"prompt\":\"c\",\"completion\":\"d\",\"rating\":-1}\n");
        Assert.That(IlqlData.Read(ratings).Select(e => e.Reward), Is.EqualTo(new[] { 0.25, -1 }));
        var approvals = dir.Write("a.jsonl", "{\"prompt\":\"a\",\"completion\":\"b\",\"label\":true}\n{\"prompt\":\"a\",\"completion\":\"c\",\"label\":false}\n");
        var ex = IlqlData.Read(approvals);
        Assert.That(ex.Select(e => e.Reward), Is.EqualTo(new[] { 1.0, 0.0 }));
        Assert.That(ex[1].Where, Does.Contain("line 2"));
    }

    [Test]
    public void DataWithoutRewardsIsOneClearError()
    {
        using var dir = new TempFiles();
        var pairs = dir.Write("p.jsonl", "{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}\n");
        var e = Assert.Throws<DataFormatException>(() => IlqlData.Read(pairs));
        Assert.That(e!.Message, Does.Contain("p.jsonl").And.Contain("no reward"));
        var sft = dir.Write("s.jsonl", "{\"prompt\":\"a\",\"completion\":\"b\"}\n");
        var e2 = Assert.Throws<DataFormatException>(() => IlqlData.Read(sft));
        Assert.That(e2!.Message, Does.Contain("s.jsonl line 1").And.Contain("no reward for ILQL").And.Contain("rating"));
        var later = dir.Write("l.jsonl", "{\"prompt\":\"a\",\"completion\":\"b\",\"rating\":1}\n{\"prompt\":\"a\",\"completion\":\"c\"}\n");
        var e3 = Assert.Throws<DataFormatException>(() => IlqlData.Read(later));
        Assert.That(e3!.Message, Does.Contain("l.jsonl line 2").And.Contain("rating"));
    }
}
