using System.Xml.Linq;
using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Optim.Telemetry;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Optim;

/// <summary>
/// Telemetry attached to the grouped optimizer: each recorded step's values against a float64 computation on the host
/// from the parameters before and after the step, the gradient and the optimizer's state; the observer sees exactly the
/// steps asked for; telemetry.jsonl and the heatmaps.
/// </summary>
public class TelemetryTests
{
    private static readonly GptConfig Tiny = new(VocabSize: 40, MaxSeqLen: 8, NumLayers: 2, NumHeads: 2, Channels: 16);
    private const float Lr = 1e-2f, GradScale = 0.5f, WeightDecay = 0.1f, AdamEps = 0.1f;

    private sealed class Recorder : ITelemetryObserver
    {
        public List<TelemetryStep> Steps { get; } = [];
        public void OnStep(TelemetryStep step) => Steps.Add(step);
    }

    private static double[] Read(CpuBackend be, RlhfCore.Tensors.Tensor t)
    {
        var a = new float[t.Length];
        be.Download<float>(t, a);
        return Array.ConvertAll(a, x => (double)x);
    }

    private static void RandomGradients(CpuBackend be, GptModel model, Rng rng)
    {
        var grad = new float[model.Gradients.All.Length];
        for (int i = 0; i < grad.Length; i++) grad[i] = (float)(rng.NextDouble() - 0.5);
        be.Upload<float>(model.Gradients.All, grad);
    }

    private static string? MomentumPrefix(OptimizerKind kind) => kind switch
    {
        OptimizerKind.AdamW => "adam.m.", OptimizerKind.Sgd => "sgd.momentum.", OptimizerKind.Lion => "lion.m.", OptimizerKind.Muon => "muon.momentum.",
        _ => "adafactor.m.",
    };

    private static void Close(double? actual, double expected, string what)
    {
        Assert.That(actual, Is.Not.Null, what);
        Assert.That(actual!.Value, Is.EqualTo(expected).Within(1e-7 + 1e-4 * Math.Abs(expected)), what);
    }

    // AdamW with ε = 0.1 so the fraction of v below ε² is neither 0 nor 1; Adafactor with its first moment on (a
    // group over every tensor), so it has a momentum; Muon's residual is checked against the Newton–Schulz output
    // recovered from the step: X = ((1 − lr·wd)·previous − param)/(lr·scale).
    [TestCase(OptimizerKind.AdamW), TestCase(OptimizerKind.Lion), TestCase(OptimizerKind.Muon), TestCase(OptimizerKind.Adafactor), TestCase(OptimizerKind.Sgd)]
    public void RecordedStep_MatchesHostFloat64(OptimizerKind kind)
    {
        using var be = new CpuBackend(2);
        using var model = new GptModel(be, Tiny);
        model.InitializeWeights(3);
        var config = OptimizerConfig.PlainAdamW(new AdamWOptions(Eps: AdamEps, WeightDecay: WeightDecay)) with
        {
            Kind = kind, Groups = kind == OptimizerKind.Adafactor ? [ParameterGroup.Parse("*:adafactor_beta1=0.9")] : [],
        };
        using var opt = new GroupedOptimizer(model.Parameters, model.Gradients, config);
        var recorder = new Recorder();
        opt.AttachTelemetry(2, recorder);
        var rng = new Rng(11);
        double[][] before = [], grads = [];
        for (int step = 1; step <= 4; step++)
        {
            RandomGradients(be, model, rng);
            if (step == 4)
            {
                before = [.. model.Parameters.Tensors.Select(t => Read(be, t))];
                grads = [.. model.Gradients.Tensors.Select(t => Read(be, t))];
            }
            opt.Update(Lr, GradScale);
        }
        Assert.That(recorder.Steps.Select(s => s.Step), Is.EqualTo(new[] { 2, 4 }));
        var state = opt.State.ToDictionary(s => s.Name, s => s.Tensor);
        var last = recorder.Steps[^1];
        Assert.That(last.Tensors.Select(t => t.Tensor), Is.EqualTo(model.Parameters.Specs.Select(s => s.Name)));
        for (int i = 0; i < model.Parameters.Specs.Count; i++)
        {
            var spec = model.Parameters.Specs[i];
            var t = last.Tensors[i];
            var rule = opt.Rules[i];
            Assert.That(t.Optimizer, Is.EqualTo(rule.Optimizer));
            double[] p = Read(be, model.Parameters.Tensors[i]), q = before[i], g = grads[i];
            double[] m = Read(be, state[MomentumPrefix(rule.Optimizer) + spec.Name]);
            double[]? v = rule.Optimizer == OptimizerKind.AdamW ? Read(be, state["adam.v." + spec.Name]) : null;
            var s = OptimizerStatisticsReference.Compute(p, q, g, m, v, GradScale, (double)AdamEps * AdamEps);
            string name = $"{spec.Name} ({rule.Optimizer})";
            Close(t.GradNorm, Math.Sqrt(s[OptimizerStatisticSlots.GradSq]), name + " grad norm");
            Close(t.ParamNorm, Math.Sqrt(s[OptimizerStatisticSlots.ParamSq]), name + " param norm");
            Close(t.UpdateNorm, Math.Sqrt(s[OptimizerStatisticSlots.UpdateSq]), name + " update norm");
            Close(t.UpdateRatio, Math.Sqrt(s[OptimizerStatisticSlots.UpdateSq] / s[OptimizerStatisticSlots.PreviousSq]), name + " update ratio");
            Close(t.MomentumAbsMean, s[OptimizerStatisticSlots.MomentumAbsMean], name + " mean |m|");
            Close(t.GradMomentumCosine, s[OptimizerStatisticSlots.GradDotMomentum] / Math.Sqrt(s[OptimizerStatisticSlots.GradSq] * s[OptimizerStatisticSlots.MomentumSq]), name + " cosine");
            if (v != null)
            {
                Close(t.VMean, s[OptimizerStatisticSlots.VMean], name + " mean v");
                Close(t.VMax, s[OptimizerStatisticSlots.VMax], name + " max v");
                Close(t.VBelowEps2, s[OptimizerStatisticSlots.VBelow], name + " v below eps²");
            }
            else Assert.That((t.VMean, t.VMax, t.VBelowEps2), Is.EqualTo(((double?)null, (double?)null, (double?)null)), name);
            if (rule.Optimizer == OptimizerKind.Lion)
            {
                Close(t.SignAgreement, s[OptimizerStatisticSlots.SignAgreement], name + " sign agreement");
                Assert.That(t.SignAgreement, Is.GreaterThan(0.5).And.LessThan(1), name + ": the sign of c mostly, not always, follows m");
            }
            else Assert.That(t.SignAgreement, Is.Null, name);
            if (rule.Optimizer == OptimizerKind.Muon)
            {
                int rows = spec.Shape[0], cols = spec.Shape[1], k = Math.Min(rows, cols);
                double scale = Math.Sqrt(Math.Max(1.0, (double)rows / cols));
                var x = q.Select((qi, j) => ((1 - Lr * WeightDecay) * qi - p[j]) / (Lr * scale)).ToArray();
                double r2 = 0;
                for (int a = 0; a < k; a++)
                    for (int b = 0; b < k; b++)
                    {
                        double dot = 0;
                        for (int c = 0; c < Math.Max(rows, cols); c++)
                            dot += rows <= cols ? x[a * cols + c] * x[b * cols + c] : x[c * cols + a] * x[c * cols + b];
                        r2 += (dot - (a == b ? 1 : 0)) * (dot - (a == b ? 1 : 0));
                    }
                Assert.That(t.OrthogonalityResidual, Is.EqualTo(Math.Sqrt(r2 / k)).Within(1e-3 * Math.Sqrt(r2 / k) + 1e-5), name + " orthogonality residual");
                Assert.That(t.OrthogonalityResidual, Is.GreaterThan(0.01).And.LessThan(0.5), name + ": Newton–Schulz leaves singular values near, not at, 1");
            }
            else Assert.That(t.OrthogonalityResidual, Is.Null, name);
        }
    }

    // A model whose wte (600×64 = 38,400) spans two chunks of the CPU backend, on 2 threads.
    private static readonly GptConfig TwoChunks = new(VocabSize: 600, MaxSeqLen: 8, NumLayers: 1, NumHeads: 2, Channels: 64);

    /// <summary>Runs <paramref name="steps"/> updates with the same seeded gradients; <paramref name="attach"/> sets telemetry up (or not).</summary>
    private static (double[] Params, double[][] State) Train(GptConfig cfg, OptimizerConfig config, int steps, Action<GroupedOptimizer> attach)
    {
        using var be = new CpuBackend(2);
        using var model = new GptModel(be, cfg);
        model.InitializeWeights(5);
        using var opt = new GroupedOptimizer(model.Parameters, model.Gradients, config);
        attach(opt);
        var rng = new Rng(17);
        for (int step = 0; step < steps; step++)
        {
            RandomGradients(be, model, rng);
            opt.Update(Lr, GradScale);
        }
        return (Read(be, model.Parameters.All), [.. opt.State.Select(s => Read(be, s.Tensor))]);
    }

    private static OptimizerConfig AdamWAndLion => OptimizerConfig.PlainAdamW(new AdamWOptions(Eps: AdamEps, WeightDecay: WeightDecay)) with
    {
        Groups = [ParameterGroup.Parse("h.*.attn.*:optimizer=lion")],
    };

    // The recorded steps run the fused kernel for AdamW: parameters and every state tensor must be the bits of a run
    // without telemetry (the Lion tensors, on the separate pass, too).
    [Test]
    public void RecordedSteps_LeaveTheParametersAndStateBitIdenticalToUnrecordedOnes()
    {
        var plain = Train(TwoChunks, AdamWAndLion, 3, _ => { });
        var recorded = Train(TwoChunks, AdamWAndLion, 3, opt => opt.AttachTelemetry(1, new Recorder()));
        Assert.That(recorded.Params, Is.EqualTo(plain.Params), "parameters");
        for (int i = 0; i < plain.State.Length; i++) Assert.That(recorded.State[i], Is.EqualTo(plain.State[i]), $"state tensor {i}");
    }

    // Fused (AdamW's statistics from its update kernel) against the separate pass over a copy of the parameters, with
    // AdamW and Lion tensors mixed. Both sum the same float values in float lanes per chunk and in double across, so they
    // agree to the float rounding of the stored slot and of the derived ratio (rtol 1e-6, about 16 ulp); a statistic from
    // the wrong values (m before the step, p after as "previous") is off by far more.
    [Test]
    public void FusedStatistics_EqualTheSeparatePass()
    {
        var fused = new Recorder();
        var separate = new Recorder();
        Train(TwoChunks, AdamWAndLion, 3, opt => opt.AttachTelemetry(1, fused));
        Train(TwoChunks, AdamWAndLion, 3, opt => opt.AttachTelemetry(1, separate, fuse: false));
        Assert.That(fused.Steps.Select(s => s.Step), Is.EqualTo(separate.Steps.Select(s => s.Step)));
        for (int s = 0; s < fused.Steps.Count; s++)
            for (int i = 0; i < fused.Steps[s].Tensors.Count; i++)
            {
                TensorTelemetry a = fused.Steps[s].Tensors[i], b = separate.Steps[s].Tensors[i];
                string name = $"step {fused.Steps[s].Step} {a.Tensor} ({a.Optimizer})";
                void Same(double? x, double? y, string what)
                {
                    Assert.That(x.HasValue, Is.EqualTo(y.HasValue), $"{name} {what}: present");
                    if (y is double e) Assert.That(x!.Value, Is.EqualTo(e).Within(1e-12 + 1e-6 * Math.Abs(e)), $"{name} {what}");
                }
                Same(a.GradNorm, b.GradNorm, "grad norm");
                Same(a.ParamNorm, b.ParamNorm, "param norm");
                Same(a.UpdateNorm, b.UpdateNorm, "update norm");
                Same(a.UpdateRatio, b.UpdateRatio, "update ratio");
                Same(a.MomentumAbsMean, b.MomentumAbsMean, "mean |m|");
                Same(a.GradMomentumCosine, b.GradMomentumCosine, "cosine");
                Same(a.VMean, b.VMean, "mean v");
                Same(a.VMax, b.VMax, "max v");
                Same(a.VBelowEps2, b.VBelowEps2, "v below eps²");
                Same(a.SignAgreement, b.SignAgreement, "sign agreement");
            }
        Assert.That(fused.Steps[^1].Tensors.Select(t => t.Optimizer), Does.Contain(OptimizerKind.AdamW).And.Contain(OptimizerKind.Lion), "both paths are exercised");
    }

    [Test]
    public void Observer_ReceivesExactlyTheStepsAskedFor_IncludingAfterAResume()
    {
        using var be = new CpuBackend(1);
        using var model = new GptModel(be, Tiny);
        model.InitializeWeights(1);
        using var opt = new GroupedOptimizer(model.Parameters, model.Gradients, OptimizerConfig.PlainAdamW(new AdamWOptions()));
        var recorder = new Recorder();
        opt.AttachTelemetry(3, recorder);
        var rng = new Rng(2);
        for (int i = 0; i < 7; i++) { RandomGradients(be, model, rng); opt.Update(1e-3f); }
        opt.Step = 10;
        for (int i = 0; i < 3; i++) { RandomGradients(be, model, rng); opt.Update(1e-3f); }
        Assert.That(recorder.Steps.Select(s => s.Step), Is.EqualTo(new[] { 3, 6, 12 }));
        Assert.That(() => opt.AttachTelemetry(0, recorder), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Files_OneJsonlLinePerTensorPerStep_AndWellFormedHeatmapsWithOneRowPerTensor()
    {
        string dir = Path.Combine(Path.GetTempPath(), "rlhf-telemetry-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var be = new CpuBackend(1);
            using var model = new GptModel(be, Tiny);
            model.InitializeWeights(1);
            var config = OptimizerConfig.PlainAdamW(new AdamWOptions()) with { Groups = [ParameterGroup.Parse("h.*.attn.*:optimizer=lion")] };
            using var opt = new GroupedOptimizer(model.Parameters, model.Gradients, config);
            int tensors = model.Parameters.Specs.Count, lion = opt.Rules.Count(r => r.Optimizer == OptimizerKind.Lion);
            var rng = new Rng(2);
            using (var files = new TelemetryFiles(dir))
            {
                opt.AttachTelemetry(1, files);
                for (int i = 0; i < 4; i++) { RandomGradients(be, model, rng); opt.Update(1e-3f); }
                var written = files.WriteHeatmaps();
                Assert.That(written.Select(Path.GetFileName), Is.EquivalentTo(TelemetryFiles.Fields.Where(f => f.Field != "ortho_residual").Select(f => $"telemetry-{f.Field}.svg")));
            }
            var lines = File.ReadAllLines(Path.Combine(dir, "telemetry.jsonl"));
            Assert.That(lines, Has.Length.EqualTo(4 * tensors));
            Assert.That(lines[0], Does.StartWith("{\"step\":1,\"tensor\":\"wte.weight\",\"optimizer\":\"adamw\",\"grad_norm\":"));
            Assert.That(lines[0], Does.Contain("\"sign_agreement\":null").And.Contain("\"ortho_residual\":null"));

            XNamespace svg = "http://www.w3.org/2000/svg";
            int Rows(string field) => XDocument.Load(Path.Combine(dir, $"telemetry-{field}.svg")).Descendants(svg + "g").Count(g => (string?)g.Attribute("class") == "row");
            Assert.That(Rows("grad_norm"), Is.EqualTo(tensors), "one row per tensor");
            Assert.That(Rows("sign_agreement"), Is.EqualTo(lion), "only the Lion tensors have a sign agreement");
            var doc = XDocument.Load(Path.Combine(dir, "telemetry-grad_norm.svg"));
            Assert.That(doc.Descendants(svg + "g").Single(g => (string?)g.Attribute("class") == "row" && (string?)g.Attribute("data-label") == "wte.weight")
                .Elements(svg + "rect").Count(), Is.EqualTo(4), "one cell per recorded step");
            Assert.That(doc.Descendants(svg + "linearGradient").Count(), Is.EqualTo(1), "a colour legend");

            using (var resumed = new TelemetryFiles(dir, resumeStep: 2))
                Assert.That(resumed.Steps.Select(s => s.Step), Is.EqualTo(new[] { 1, 2 }), "a resumed run keeps the steps up to its checkpoint");
            Assert.That(File.ReadAllLines(Path.Combine(dir, "telemetry.jsonl")), Has.Length.EqualTo(2 * tensors));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
