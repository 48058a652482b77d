using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Tests.IO;
using RlhfCore.Training;
using RlhfCore.Training.Dpo;
using CliRunner = RlhfCore.Tests.Reliability.Cli;

namespace RlhfCore.Tests.Dpo;

/// <summary>
/// ORPO and SimPO wired into the DPO trainer (issue 10): with no reference model they train a tiny model on synthetic
/// preferences (letters a–e over v–z), log TRL's metrics, resume bit for bit, and through the CLI write no reference.
/// </summary>
public class ReferenceFreeLossTests
{

    private static List<DpoExample> Pairs(int count, int seed)
    {
        var rng = new Random(seed);
        string Pick(string letters, int n) => new(Enumerable.Range(0, n).Select(_ => letters[rng.Next(letters.Length)]).ToArray());
        // Rejected completions are one letter longer: SimPO's and ORPO's length normalization must not matter for the direction.
        var pairs = Enumerable.Range(0, count)
            .Select(i => new PreferencePair(Pick("0123456789", 3), Pick("abcde", 2), Pick("vwxyz", 3)) { FilePath = "synthetic", Line = i + 1 });
        return DpoData.Tokenize(pairs, ByteTokenizer.Instance, seqLen: 8, DpoTestKit.Config.VocabSize);
    }

    private static DpoOptions Options(DpoLossKind kind) => new()
    {
        Loss = kind, Beta = 2.0, SimpoGamma = 0.5, OrpoLambda = 0.5, Batch = 8, SeqLen = 8, Steps = 30, Lr = 3e-3f, Warmup = 0,
        EvalEvery = 0, EvalBatches = 0, CheckpointEvery = 0, Seed = 5,
    };

    private static GptModel Model(CpuBackend be, ulong seed) => DpoTestKit.Model(be, seed);

    [TestCase(DpoLossKind.Orpo)]
    [TestCase(DpoLossKind.Simpo)]
    public void TrainsWithoutAReference(DpoLossKind kind)
    {
        using var be = new CpuBackend(2);
        using var policy = Model(be, 3);
        var heldOut = Pairs(48, 2);
        using var trainer = new DpoTrainer(policy, null, Pairs(200, 1), heldOut, Options(kind));
        var before = trainer.Evaluate();
        var reports = new List<DpoStepReport>();
        trainer.Run(CancellationToken.None, reports.Add, _ => { });
        var after = reports[^1].Eval!;
        TestContext.Out.WriteLine($"{kind}: loss {before.Loss:F4} → {after.Loss:F4}, accuracy {before.RewardsAccuracy:P0} → {after.RewardsAccuracy:P0}, margin {before.RewardsMargin:F3} → {after.RewardsMargin:F3}");
        Assert.That(after.Loss, Is.LessThan(before.Loss));
        Assert.That(after.RewardsMargin, Is.GreaterThan(before.RewardsMargin));
        Assert.That(after.RewardsAccuracy, Is.GreaterThanOrEqualTo(0.9));
        Assert.That(reports.Any(r => r.Skipped), Is.False);
        var row = after.ToDictionary();
        Assert.That(row.Keys, Is.SupersetOf(new[] { "loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected" }));
        if (kind == DpoLossKind.Orpo)
        {
            Assert.That(row.Keys, Is.SupersetOf(new[] { "nll_loss", "log_odds_ratio", "log_odds_chosen" }), "TRL's ORPO metrics");
            Assert.That(after.Extra!["nll_loss"], Is.LessThan(before.Extra!["nll_loss"]), "the SFT term falls");
        }
    }

    [Test]
    public void ALossWithoutAReference_RefusesOne()
    {
        using var be = new CpuBackend(1);
        using var policy = Model(be, 3);
        using var reference = Model(be, 3);
        var e = Assert.Throws<ArgumentException>(() => new DpoTrainer(policy, reference, Pairs(8, 1), null, Options(DpoLossKind.Simpo)))!;
        Assert.That(e.Message, Does.Contain("Simpo loss has no reference model"));
        Assert.That(Assert.Throws<ArgumentException>(() => new DpoTrainer(policy, null, Pairs(8, 1), null, Options(DpoLossKind.Sigmoid)))!.Message,
            Does.Contain("needs a reference model"));
    }

    [TestCase(DpoLossKind.Orpo)]
    [TestCase(DpoLossKind.Simpo)]
    public void ResumeEqualsUninterrupted(DpoLossKind kind)
    {
        var o = Options(kind) with { Steps = 5, GradAccum = 2 };
        var train = Pairs(20, 1);
        var (straightLosses, straight, losses, resumed) = DpoTestKit.StraightAndResumed(o, train, withReference: false);
        Assert.That(resumed, Is.EqualTo(straight), "parameters after resume");
        Assert.That(losses, Is.EqualTo(straightLosses));
    }

    [Test]
    public void Cli_Orpo_WritesNoReferenceAndLogsTrlsMetrics()
    {
        using var dir = new TempDir();
        DpoTestKit.SaveTinySft(dir);
        string outDir = Path.Combine(dir.Path, "orpo");
        var r = CliRunner.InProcess("dpo", "--loss", "Orpo", "--init-from", dir.File("sft.safetensors"), "--steps", "2", "--batch", "4",
            "--eval-every", "0", "--threads", "1", "--out-dir", outDir);
        Assert.That(r.Code, Is.Zero, r.ToString());
        Assert.That(File.Exists(Path.Combine(outDir, "reference.safetensors")), Is.False, "ORPO has no reference model");
        Assert.That(File.ReadAllText(Path.Combine(outDir, "metrics.jsonl")), Does.Contain("\"nll_loss\"").And.Contain("\"log_odds_ratio\""));
    }
}
