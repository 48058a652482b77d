using System.Globalization;
using RlhfCore.Backends.Cpu;
using RlhfCore.IO;
using RlhfCore.Training.Dpo;
using RlhfCore.Training.Pipeline;

namespace RlhfCore.Tests.Pipeline;

/// <summary>
/// The KL to SFT that every round's evaluation reports (rounds.csv's sampled_kl): zero for the SFT policy itself, which
/// checks that the sampled tokens, the generator's logits and the SFT model's log-probabilities line up token for token;
/// measured for a method whose stage has no rollouts (DPO) and written to evaluation.json and rounds.csv.
/// </summary>
public class SampledKlTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "rlhf-sampled-kl-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Test]
    public void EveryRound_ReportsTheKlOnEvaluationSamples_AndTheSftPolicyHasNone()
    {
        var o = new PipelineOptions
        {
            Model = "byte-tiny", MaxOperand = 10, SftSteps = 30, Batch = 8, SeqLen = 16, Rounds = 1, ComparisonsPerRound = 24,
            AnnotatorTieMargin = 0, RewardSteps = 4, RewardBatch = 4, PolicySteps = 3, PolicyLr = 3e-3f, PromptsPerStep = 4, EvalPrompts = 40,
            ShiftEvalPrompts = 4, Method = PipelineMethod.Dpo, DpoLoss = DpoLossKind.Sigmoid, OutDir = _dir, Threads = 2,
        };
        using var be = new CpuBackend(2);
        var pipeline = new RlhfPipeline(o, be, _ => { });
        var (rounds, curve) = pipeline.Run(CancellationToken.None);
        Assert.That(curve, Is.Empty, "DPO has no rollouts, so no rollout KL");
        Assert.That(double.IsNaN(rounds[0].SampledKl), "SFT is the reference: no KL row");
        Assert.That(double.IsFinite(rounds[1].SampledKl) && rounds[1].SampledKl != 0, $"DPO's KL on evaluation samples {rounds[1].SampledKl}");

        using var sft = ModelFiles.Load(Path.Combine(_dir, "sft", "model.safetensors"), be);
        var (kl, gold) = pipeline.SampledKl(1, sft, null);
        Assert.That(kl, Is.EqualTo(0).Within(1e-4), "the SFT policy's KL to itself");
        Assert.That(gold, Is.InRange(0.0, 1.0));

        var csv = File.ReadAllLines(Path.Combine(_dir, "rounds.csv"));
        Assert.That(csv[0].Split(',')[^1], Is.EqualTo("sampled_kl"));
        Assert.That(double.Parse(csv[2].Split(',')[^1], CultureInfo.InvariantCulture), Is.EqualTo(rounds[1].SampledKl).Within(1e-9));
    }
}
