using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RlhfCore.Rl;
using RlhfCore.Training;
using RlhfCore.Training.Dpo;
using RlhfCore.Training.Ilql;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Sft;
using RlhfCore.Training.Ppo;
using RlhfCore.Training.Core;

namespace RlhfCore.Tests.Training;

/// <summary>
/// The options base must not change a stage's defaults silently: each stage's default record, serialized as
/// <c>--dry-run</c> and <c>config.json</c> write it, equals the values recorded from main (9ad6bb1) before
/// the shared fields moved into <see cref="TrainerOptions"/>. The additions since: PPO's MinLrFraction, 0.1
/// (the floor its schedule already used implicitly), every stage's TelemetryEvery, 0 (off), and issue 10's DPO and PPO flags, each off or at the earlier behaviour.
/// </summary>
public class StageDefaultsTests
{
    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    private static void AssertDefaults(object options, string recorded)
    {
        var actual = JsonNode.Parse(JsonSerializer.Serialize(options, options.GetType(), Json))!.AsObject();
        var expected = JsonNode.Parse(recorded)!.AsObject();
        Assert.That(actual.Select(p => p.Key), Is.EquivalentTo(expected.Select(p => p.Key)), "the fields changed");
        foreach (var (key, value) in expected)
            Assert.That(JsonNode.DeepEquals(actual[key], value), Is.True, $"{key}: default {actual[key]?.ToJsonString()}, was {value?.ToJsonString()}");
    }

    [Test]
    public void Sft() => AssertDefaults(new SftOptions(), """
        {"Data":"builtin:arithmetic","EvalData":null,"MaxLineBytes":16777216,"EvalFraction":0.05,"Model":"byte-small","InitFrom":null,"Tokenizer":"byte","TokenizerDir":null,"Overlong":"Error","Batch":32,"SeqLen":16,"Steps":4000,"GradAccum":1,"Lr":0.003,"Warmup":100,"Schedule":"Cosine","MinLrFraction":0.1,"Beta1":0.9,"Beta2":0.95,"Eps":1e-08,"WeightDecay":0.1,"Optimizer":"AdamW","Momentum":0.9,"Nesterov":false,"LionBeta1":0.9,"LionBeta2":0.99,"MuonMomentum":0.95,"ParamGroup":[],"GradClip":1,"EvalEvery":500,"EvalBatches":4,"CheckpointEvery":1000,"TelemetryEvery":0,"Seed":1337,"OutDir":"runs/sft","Threads":0,"Device":"cpu","Resume":false,"Overwrite":false}
        """);

    [Test]
    public void Reward() => AssertDefaults(new RewardOptions(), """
        {"Data":"builtin:arithmetic","EvalData":null,"MaxLineBytes":16777216,"EvalFraction":0.1,"Kind":"auto","SkipInvalid":false,"Overflow":"Error","AppendEos":true,"AllowEmptyCompletions":false,"Ensemble":1,"EnsembleTrunk":"Own","Model":"byte-tiny","InitFrom":null,"Tokenizer":"byte","TokenizerDir":null,"Batch":16,"SeqLen":16,"Steps":300,"GradAccum":1,"Lr":0.001,"Warmup":20,"Schedule":"Cosine","MinLrFraction":0.1,"Beta1":0.9,"Beta2":0.95,"Eps":1e-08,"WeightDecay":0.1,"Optimizer":"AdamW","Momentum":0.9,"Nesterov":false,"LionBeta1":0.9,"LionBeta2":0.99,"MuonMomentum":0.95,"ParamGroup":[],"GradClip":1,"CenterRewardsCoefficient":0,"EvalEvery":50,"EvalMax":0,"CheckpointEvery":100,"TelemetryEvery":0,"Seed":1337,"OutDir":"runs/reward","Threads":0,"Device":"cpu","Resume":false,"Overwrite":false}
        """);

    [Test]
    public void Dpo() => AssertDefaults(new DpoOptions(), """
        {"Data":"builtin:arithmetic","EvalData":null,"MaxLineBytes":16777216,"EvalFraction":0.05,"InitFrom":null,"Reference":null,"Tokenizer":"byte","TokenizerDir":null,"Loss":"Sigmoid","Beta":0.1,"LabelSmoothing":0,"Batch":8,"SeqLen":32,"Steps":200,"GradAccum":1,"Lr":0.0001,"Warmup":10,"Schedule":"Cosine","MinLrFraction":0.1,"Beta1":0.9,"Beta2":0.95,"Eps":1e-08,"WeightDecay":0,"Optimizer":"AdamW","Momentum":0.9,"Nesterov":false,"LionBeta1":0.9,"LionBeta2":0.99,"MuonMomentum":0.95,"ParamGroup":[],"GradClip":1,"EvalEvery":25,"EvalBatches":8,"CheckpointEvery":100,"TelemetryEvery":0,"Seed":1337,"OutDir":"runs/dpo","Threads":0,"Device":"cpu","Resume":false,"Overwrite":false,"OrpoLambda":0.1,"DesirableWeight":1,"UndesirableWeight":1,"SimpoGamma":0.5,"RefSyncEvery":0,"RefMix":0.6}
        """);

    /// <summary>ILQL's stage is new (issue 10): trlx's ILQLConfig defaults, DPO's schedule, and no default data.</summary>
    [Test]
    public void Ilql() => AssertDefaults(new IlqlOptions(), """
        {"Model":null,"Tau":0.7,"Gamma":0.99,"CqlScale":0.1,"AwacScale":1,"Alpha":0.001,"Beta":0,"TwoQs":true,"TargetSyncEvery":5,"SeqLen":32,"EvalBatches":8,"Data":"","EvalData":null,"EvalFraction":0.05,"Batch":8,"GradAccum":1,"EvalEvery":25,"MaxLineBytes":16777216,"InitFrom":null,"Tokenizer":"byte","TokenizerDir":null,"Steps":200,"Lr":0.0001,"Warmup":10,"Schedule":"Cosine","MinLrFraction":0.1,"Beta1":0.9,"Beta2":0.95,"Eps":1e-08,"WeightDecay":0,"Optimizer":"AdamW","Momentum":0.9,"Nesterov":false,"LionBeta1":0.9,"LionBeta2":0.99,"MuonMomentum":0.95,"ParamGroup":[],"GradClip":1,"CheckpointEvery":100,"TelemetryEvery":0,"Seed":1337,"OutDir":"runs/ilql","Threads":0,"Device":"cpu","Resume":false,"Overwrite":false}
        """);

    [Test]
    public void Ppo() => AssertDefaults(new PpoOptions(), """
        {"Method":"Ppo","Prompts":"builtin:arithmetic","MaxLineBytes":16777216,"PromptPool":4096,"InitFrom":null,"Model":"byte-small","Reference":null,"Reward":"model","RewardModel":null,"RewardAggregate":"Mean","UncertaintyCoef":1,"HackingWindow":8,"StopOnHacking":false,"ValueHead":"Fresh","Tokenizer":"byte","TokenizerDir":null,"Steps":100,"PromptsPerStep":16,"SamplesPerPrompt":0,"MiniBatch":8,"Epochs":4,"MaxNewTokens":8,"Temperature":1,"StopAtEos":true,"MissingEosPenalty":0,"KlCoef":0.05,"KlTarget":0,"KlHorizon":10000,"KlEstimator":"Auto","KlPenalty":"Auto","Gamma":1,"Lam":0.95,"WhitenAdvantages":true,"WhitenRewards":false,"ScoreClip":0,"ClipRange":0.2,"ClipRangeValue":0.2,"VfCoef":0.1,"EntropyCoef":0,"TargetKl":0,"BaselineDecay":0.9,"Lr":0.0001,"Warmup":0,"Schedule":"Constant","Beta1":0.9,"Beta2":0.95,"Eps":1e-08,"WeightDecay":0,"Optimizer":"AdamW","Momentum":0.9,"Nesterov":false,"LionBeta1":0.9,"LionBeta2":0.99,"MuonMomentum":0.95,"ParamGroup":[],"GradClip":1,"CheckpointEvery":20,"TelemetryEvery":0,"Seed":1337,"OutDir":"runs/ppo","Threads":0,"Device":"cpu","Resume":false,"Overwrite":false,"Aggregation":{"Aggregate":"Mean","UncertaintyCoef":1},"RolloutSize":16,"MinLrFraction":0.1,"ClipLow":null,"ClipHigh":null,"DualClip":0,"LossAggregation":"token-mean","ScaleRewards":"group","ImportanceLevel":"Token","DynamicSampling":false,"DynamicSamplingTries":3,"OverlongBuffer":0,"OverlongPenaltyFactor":1,"RefSyncEvery":0,"RefMix":0.6}
        """);
}
