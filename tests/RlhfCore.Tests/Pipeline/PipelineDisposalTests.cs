using RlhfCore.Backends.Cpu;
using RlhfCore.Training.Pipeline;

namespace RlhfCore.Tests.Pipeline;

/// <summary>
/// A pipeline round frees every device buffer it allocates: the models it loads, and the reward-model scorers
/// (PPO's, the evaluation's, the diagnostics') that hold activations on the device. A scorer created and never
/// disposed leaves its buffers behind on a long-lived backend, one set per round.
/// </summary>
public class PipelineDisposalTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "rlhf-disposal-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [TestCase(PipelineMethod.Rloo, 1)]
    [TestCase(PipelineMethod.Dpo, 2)]
    public void ARoundLeavesNoDeviceBufferBehind(PipelineMethod method, int ensemble)
    {
        var o = new PipelineOptions
        {
            Model = "byte-tiny", MaxOperand = 10, SftSteps = 4, Batch = 8, SeqLen = 16, Rounds = 1, ComparisonsPerRound = 24,
            AnnotatorTieMargin = 0, RewardSteps = 2, RewardBatch = 4, RewardEnsemble = ensemble, PolicySteps = 2, PromptsPerStep = 4,
            EvalPrompts = 8, ShiftEvalPrompts = 8, Method = method, OutDir = _dir, Threads = 2,
        };
        using var be = new CpuBackend(2);
        long before = be.LiveBuffers;
        var (rounds, _) = new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        Assert.That(rounds, Has.Count.EqualTo(2), "SFT and one round ran");
        Assert.That(double.IsFinite(rounds[1].RewardModelScore), "the evaluation scored samples with the reward model");
        Assert.That(be.LiveBuffers, Is.EqualTo(before), "device buffers still allocated after the round");
    }
}
