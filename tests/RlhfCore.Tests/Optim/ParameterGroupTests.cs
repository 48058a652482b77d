using RlhfCore.Model;
using RlhfCore.Optim;

namespace RlhfCore.Tests.Optim;

/// <summary>Parsing and resolving <c>--param-group</c>: globs over HF GPT-2 names, defaults, and the two errors.</summary>
public class ParameterGroupTests
{
    private static readonly GptConfig Tiny = new(VocabSize: 16, MaxSeqLen: 8, NumLayers: 2, NumHeads: 2, Channels: 8);

    private static OptimizerConfig Config(OptimizerKind kind, params string[] groups) =>
        new(kind, new AdamWOptions(WeightDecay: 0.1f), new SgdOptions(), new LionOptions(), new MuonOptions(), [.. groups.Select(ParameterGroup.Parse)]);

    [Test]
    public void Parse_ReadsEveryKey()
    {
        var g = ParameterGroup.Parse("h.*.attn.*:lr=0.5, weight_decay=0.01,optimizer=lion");
        Assert.That(g, Is.EqualTo(new ParameterGroup("h.*.attn.*", 0.5f, 0.01f, OptimizerKind.Lion)));
    }

    [Test]
    public void AdafactorKeys_OverrideTheRunsSettingsForThatGroup()
    {
        var specs = GptParameters.Table(Tiny, ModelHeads.None);
        var config = Config(OptimizerKind.Adafactor, "h.*:adafactor_beta1=0.9,adafactor_clip_threshold=2,adafactor_relative_step=true") with
        {
            Adafactor = new AdafactorOptions(DecayRate: 0.7f),
        };
        var byName = config.Resolve(specs).ToDictionary(r => r.Tensor);
        Assert.That(byName["h.0.attn.c_attn.weight"].Adafactor, Is.EqualTo(new AdafactorOptions(Beta1: 0.9f, DecayRate: 0.7f, ClipThreshold: 2f, RelativeStep: true)));
        Assert.That(byName["wte.weight"].Adafactor, Is.EqualTo(new AdafactorOptions(DecayRate: 0.7f)), "outside the group: the run's settings");
        Assert.That(Config(OptimizerKind.AdamW).Resolve(specs).All(r => r.Adafactor == null), "no Adafactor settings on other rules");
    }

    [Test]
    public void AdafactorKeysOnAnotherRule_AreAnErrorNamingTheGroup()
    {
        var specs = GptParameters.Table(Tiny, ModelHeads.None);
        var e = Assert.Throws<ArgumentException>(() => Config(OptimizerKind.AdamW, "wte:adafactor_beta1=0.9").Resolve(specs))!;
        Assert.That(e.Message, Does.Contain("'wte'").And.Contain("add optimizer=adafactor"));
        Assert.That(() => Config(OptimizerKind.AdamW, "wte:optimizer=adafactor,adafactor_beta1=0.9").Resolve(specs), Throws.Nothing);
    }

    [TestCase("wte:adafactor_scale_parameter=yes", "adafactor_scale_parameter=yes is not 0, 1, true or false")]
    [TestCase("wte:adafactor_beta1=1", "adafactor_beta1=1 is not a number")]
    [TestCase("wte", "no pattern before ':'")]
    [TestCase(":lr=1", "no pattern before ':'")]
    [TestCase("wte:lr", "'lr' is not key=value")]
    [TestCase("wte:beta=0.9", "unknown key 'beta'")]
    [TestCase("wte:lr=-1", "lr=-1 is not a number")]
    [TestCase("wte:optimizer=rmsprop", "optimizer 'rmsprop' is not one of")]
    [TestCase("wte:", "no settings")]
    public void Parse_BadValue_NamesTheFlagAndThePart(string text, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => ParameterGroup.Parse(text))!;
        Assert.That(e.Message, Does.Contain("--param-group").And.Contain(why));
    }

    [Test]
    public void Resolve_GroupsOverrideDefaults_OthersKeepThem()
    {
        var specs = GptParameters.Table(Tiny, ModelHeads.None);
        var rules = Config(OptimizerKind.Sgd, "wte:lr=0.1,optimizer=adamw", "h.*.attn.*:weight_decay=0").Resolve(specs);
        var byName = rules.ToDictionary(r => r.Tensor);
        Assert.That(byName["wte.weight"], Is.EqualTo(new TensorRule("wte.weight", OptimizerKind.AdamW, 0.1f, 0.1f, "wte")));
        Assert.That(byName["h.1.attn.c_attn.weight"], Is.EqualTo(new TensorRule("h.1.attn.c_attn.weight", OptimizerKind.Sgd, 1f, 0f, "h.*.attn.*")));
        Assert.That(byName["h.0.attn.c_proj.bias"].Group, Is.EqualTo("h.*.attn.*"));
        Assert.That(byName["h.0.mlp.c_fc.weight"], Is.EqualTo(new TensorRule("h.0.mlp.c_fc.weight", OptimizerKind.Sgd, 1f, 0.1f, null)));
        Assert.That(byName["h.0.ln_1.bias"].WeightDecay, Is.EqualTo(0f), "1-D tensors are not decayed by default");
        Assert.That(byName["wpe.weight"].Group, Is.Null, "'wte' matches wte.weight, not wpe.weight");
    }

    [Test]
    public void PatternMatchingNothing_IsAnErrorNamingIt()
    {
        var specs = GptParameters.Table(Tiny, ModelHeads.None);
        var e = Assert.Throws<ArgumentException>(() => Config(OptimizerKind.AdamW, "h.*.attn.*:lr=2", "lm_head:lr=2").Resolve(specs))!;
        Assert.That(e.Message, Does.Contain("'lm_head' matches no parameter tensor"));
    }

    [Test]
    public void OverlappingPatterns_AreAnErrorNamingBothAndTheTensor()
    {
        var specs = GptParameters.Table(Tiny, ModelHeads.None);
        var e = Assert.Throws<ArgumentException>(() => Config(OptimizerKind.AdamW, "h.*.attn.*:lr=2", "h.1.*:lr=3").Resolve(specs))!;
        Assert.That(e.Message, Does.Contain("'h.*.attn.*' and 'h.1.*' overlap: both match h.1.attn.c_attn.weight"));
    }

    [Test]
    public void Muon_TakesHiddenMatrices_AdamWTheRest_AndAGroupCannotPutItOnAnEmbedding()
    {
        var specs = GptParameters.Table(Tiny, ModelHeads.None);
        var byName = Config(OptimizerKind.Muon).Resolve(specs).ToDictionary(r => r.Tensor, r => r.Optimizer);
        Assert.That(byName["h.0.attn.c_attn.weight"], Is.EqualTo(OptimizerKind.Muon));
        Assert.That(byName["h.1.mlp.c_proj.weight"], Is.EqualTo(OptimizerKind.Muon));
        Assert.That(byName["h.0.attn.c_attn.bias"], Is.EqualTo(OptimizerKind.AdamW));
        Assert.That(byName["wte.weight"], Is.EqualTo(OptimizerKind.AdamW));
        Assert.That(byName["ln_f.weight"], Is.EqualTo(OptimizerKind.AdamW));
        var e = Assert.Throws<ArgumentException>(() => Config(OptimizerKind.AdamW, "wte:optimizer=muon").Resolve(specs))!;
        Assert.That(e.Message, Does.Contain("optimizer=muon is for 2-D hidden weights").And.Contain("wte.weight"));
    }
}
