using System.Globalization;
using System.Text.RegularExpressions;
using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Training;
using RlhfCore.Training.Sft;

namespace RlhfCore.Tests.Embedding;

/// <summary>
/// The examples in native/examples: the C program's loss curve equals the managed API's for the same seed,
/// bit for bit on the CPU, and the Python (ctypes) program prints exactly what the C program prints.
/// </summary>
[TestFixture, NonParallelizable]
public sealed partial class TrainTinyTests
{
    // train_tiny.c's settings, repeated here: the test reruns its training through the engine's own API.
    private const string Text = "To be embedded is to be called: a C host trains the model one step at a time.";
    private const int Steps = 50, Threads = 2;
    private const ulong Seed = 7;
    private const float Lr = 3e-3f, GradClip = 1f;

    [Test]
    public void LossCurve_EqualsManagedApiBitForBit()
    {
        var run = NativeProcess.Run(NativeBuild.Program("train_tiny"), [Seed.ToString(CultureInfo.InvariantCulture), Threads.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(2));
        Assert.That(run.ExitCode, Is.Zero, run.Output);
        double[] native = Losses(run.Stdout);
        double[] managed = ManagedLosses();
        Assert.That(native, Has.Length.EqualTo(Steps), run.Stdout);
        Assert.That(native, Is.EqualTo(managed), "the C API's loss curve differs from the managed API's");
        Assert.That(native[^1], Is.LessThan(native[0] / 10), "50 steps on one string should bring the loss down");
        Assert.That(run.Stdout, Does.Contain("sample: To be embedd|"));
    }

    [Test]
    public void PythonExample_PrintsWhatTheCExamplePrints()
    {
        string? python = NativeProcess.Find("python3");
        if (python == null) Assert.Ignore("python3 is not on PATH");
        string seed = Seed.ToString(CultureInfo.InvariantCulture), threads = Threads.ToString(CultureInfo.InvariantCulture);
        var c = NativeProcess.Run(NativeBuild.Program("train_tiny"), [seed, threads], TimeSpan.FromMinutes(2));
        var py = NativeProcess.Run(python!, [Path.Combine(TestData.RepoRoot, "native", "examples", "python", "train_tiny.py"),
            "--lib", Path.Combine(NativeBuild.LibDir, "librlhfcore.so"), "--seed", seed, "--threads", threads], TimeSpan.FromMinutes(2));
        Assert.That(py.ExitCode, Is.Zero, py.Output);
        Assert.That(c.ExitCode, Is.Zero, c.Output);
        Assert.That(Losses(py.Stdout), Has.Length.EqualTo(Steps), py.Stdout);
        Assert.That(py.Stdout, Is.EqualTo(c.Stdout));
    }

    /// <summary>The same training as train_tiny.c, written against the engine's classes.</summary>
    private static double[] ManagedLosses()
    {
        using var backend = new CpuBackend(Threads);
        using var model = new GptModel(backend, GptConfig.Preset("byte-tiny"));
        model.InitializeWeights(Seed);
        int[] ids = ByteTokenizer.Instance.Encode(Text);
        int T = ids.Length - 1;
        var batch = new SftBatch(1, T);
        for (int t = 0; t < T; t++)
        {
            batch.Tokens[t] = ids[t];
            batch.Targets[t] = ids[t + 1];
            batch.LossMask[t] = 1;
            batch.AttentionMask[t] = 1;
            batch.Positions[t] = t;
        }
        batch.LossTokenCount = T;
        var step = new LmStep(model, 1, T);
        using var activations = step.Activations;
        using var adamW = new AdamW(model.Parameters, model.Gradients, new AdamWOptions(WeightDecay: 0));
        using var clipper = new GradientClipper(backend);
        var losses = new double[Steps];
        for (int s = 0; s < Steps; s++)
        {
            model.ZeroGradients();
            losses[s] = step.Run(batch, backward: true);
            float norm = clipper.GlobalNorm(model.Gradients.All);
            adamW.Update(Lr, GradientClipper.ClipScale(norm, GradClip));
        }
        return losses;
    }

    private static double[] Losses(string stdout) =>
        LossLine().Matches(stdout).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();

    [GeneratedRegex(@"^step \d+ loss (\S+)$", RegexOptions.Multiline)]
    private static partial Regex LossLine();
}
