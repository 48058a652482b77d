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
/// KTO wired into the DPO trainer (issue 10): unpaired approvals (completions spelling the prompt's first digit as a letter approved, v–z not) train a
/// tiny model, desirable-only data trains with --undesirable-weight 0, a resumed run equals an uninterrupted one, and
/// data with no undesirable example while its weight is above 0 is one CLI error naming the file.
/// </summary>
public class KtoTrainerTests
{

    private static List<DpoExample> Approvals(int count, int seed, bool undesirable = true)
    {
        var rng = new Random(seed);
        string Pick(string letters, int n) => new(Enumerable.Range(0, n).Select(_ => letters[rng.Next(letters.Length)]).ToArray());
        return Enumerable.Range(0, count)
            .Select(i => undesirable && i % 2 == 1
                ? new LabeledCompletion(Pick("0123456789", 3), Pick("vwxyz", 2), false) { FilePath = "synthetic", Line = i + 1 }
                : Desirable(Pick("0123456789", 3), i))
            .Select(c => DpoExample.FromLabeled(c, ByteTokenizer.Instance, 8, DpoTestKit.Config.VocabSize)).ToList();
    }

    /// <summary>An approved completion that depends on the prompt (its first digit as a letter, twice), so it beats KTO's mismatched KL pairs.</summary>
    private static LabeledCompletion Desirable(string prompt, int i) =>
        new(prompt, new string((char)('a' + prompt[0] - '0'), 2), true) { FilePath = "synthetic", Line = i + 1 };

    private static DpoOptions Options() => new()
    {
        Loss = DpoLossKind.Kto, Beta = 0.5, Batch = 8, SeqLen = 8, Steps = 30, Lr = 3e-3f, Warmup = 0,
        EvalEvery = 0, EvalBatches = 0, CheckpointEvery = 0, Seed = 5,
    };

    private static GptModel Model(CpuBackend be, ulong seed) => DpoTestKit.Model(be, seed);

    [Test]
    public void TrainsOnApprovals()
    {
        using var be = new CpuBackend(2);
        using var policy = Model(be, 3);
        using var reference = Model(be, 3);
        using var trainer = new DpoTrainer(policy, reference, Approvals(200, 1), Approvals(48, 2), Options());
        var before = trainer.Evaluate();
        var reports = new List<DpoStepReport>();
        trainer.Run(CancellationToken.None, reports.Add, _ => { });
        var after = reports[^1].Eval!;
        var (b, a) = (before.ToDictionary(), after.ToDictionary());
        TestContext.Out.WriteLine($"KTO: loss {before.Loss:F4} → {after.Loss:F4}, margin {b["rewards/margins"]:F3} → {a["rewards/margins"]:F3}, kl {a["kl"]:F3}");
        Assert.That(b["rewards/margins"], Is.Zero, "policy = reference gives zero rewards");
        Assert.That(after.Loss, Is.LessThan(before.Loss));
        Assert.That(a["rewards/margins"], Is.GreaterThan(0.5), "approved completions gain reward over the others");
        Assert.That(a.Keys, Is.SupersetOf(new[] { "kl", "rewards/chosen", "rewards/rejected", "logps/chosen", "logps/rejected", "count/chosen", "count/rejected" }), "TRL's KTO metrics");
        Assert.That(reports.Any(r => r.Skipped), Is.False);
    }

    [Test]
    public void TrainsOnDesirableExamplesOnly()
    {
        using var be = new CpuBackend(2);
        using var policy = Model(be, 3);
        using var reference = Model(be, 3);
        var o = Options() with { UndesirableWeight = 0 };
        using var trainer = new DpoTrainer(policy, reference, Approvals(100, 1, undesirable: false), Approvals(24, 2, undesirable: false), o);
        var before = trainer.Evaluate();
        var reports = new List<DpoStepReport>();
        trainer.Run(CancellationToken.None, reports.Add, _ => { });
        var after = reports[^1].Eval!;
        Assert.That(after.Loss, Is.LessThan(before.Loss));
        Assert.That(after.Extra!["rewards/chosen"], Is.GreaterThan(before.Extra!["rewards/chosen"]));
        Assert.That(after.ToDictionary()["rewards/rejected"], Is.NaN, "no undesirable examples to average");
    }

    [Test]
    public void NoUndesirableExamples_WithTheirWeightAboveZero_IsOneError() =>
        Assert.That(Assert.Throws<InvalidDataException>(() =>
        {
            using var be = new CpuBackend(1);
            using var policy = Model(be, 3);
            using var reference = Model(be, 3);
            using var t = new DpoTrainer(policy, reference, Approvals(8, 1, undesirable: false), null, Options());
        })!.Message, Does.StartWith("synthetic: KTO data has 8 desirable examples and no undesirable ones"));

    [Test]
    public void ResumeEqualsUninterrupted()
    {
        var o = Options() with { Steps = 5, GradAccum = 2 };
        var train = Approvals(20, 1);
        var (straightLosses, straight, losses, resumed) = DpoTestKit.StraightAndResumed(o, train, withReference: true);
        Assert.That(resumed, Is.EqualTo(straight), "parameters after resume");
        Assert.That(losses, Is.EqualTo(straightLosses));
    }

    [Test]
    public void Cli_DesirableOnlyApprovals_WithUndesirableWeight_IsOneErrorNamingTheFile()
    {
        using var dir = new TempDir();
        DpoTestKit.SaveTinySft(dir);
        string data = dir.File("approvals.jsonl");
        File.WriteAllLines(data, Enumerable.Range(0, 6).Select(i => $"{{\"prompt\":\"{i}+1=\",\"completion\":\"{i + 1}\",\"label\":true}}"));
        var r = CliRunner.InProcess("dpo", "--loss", "Kto", "--data", data, "--init-from", dir.File("sft.safetensors"), "--steps", "1", "--batch", "2",
            "--threads", "1", "--out-dir", Path.Combine(dir.Path, "kto"));
        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines[0], Does.StartWith($"error: {data}: KTO data has").And.Contain("--undesirable-weight"));
        var ok = CliRunner.InProcess("dpo", "--loss", "Kto", "--data", data, "--init-from", dir.File("sft.safetensors"), "--steps", "1", "--batch", "2",
            "--undesirable-weight", "0", "--eval-fraction", "0", "--threads", "1", "--out-dir", Path.Combine(dir.Path, "kto2"));
        Assert.That(ok.Code, Is.Zero, ok.ToString());
    }
}
