using System.Diagnostics;
using RlhfCore.Backends;
using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Training.Sft;
using RlhfCore.Optim.Telemetry;

namespace RlhfCore.Training;

/// <summary>Timings of full training steps, per step in milliseconds.</summary>
/// <param name="StepMilliseconds">Each timed step (forward, backward, gradient norm, AdamW).</param>
/// <param name="TokensPerStep">B·T.</param>
public sealed record StepBenchmarkResult(double[] StepMilliseconds, int TokensPerStep)
{
    /// <summary>Median step time.</summary>
    public double MedianMs => Median(StepMilliseconds);
    /// <summary>Tokens per second at the median step time.</summary>
    public double TokensPerSecond => TokensPerStep / (MedianMs / 1000.0);

    /// <summary>The median of <paramref name="xs"/>.</summary>
    public static double Median(IReadOnlyList<double> xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}

/// <summary>
/// Times whole training steps of a randomly initialized model on random tokens: forward, fused
/// cross-entropy, backward, global gradient norm (a host read, which also synchronizes the device), and
/// an AdamW update (the grouped optimizer with every tensor on AdamW, as SFT runs it) — exactly the work of an SFT step,
/// plus optimizer telemetry every <c>telemetryEvery</c> steps when that is above 0. Warm-up steps are run first and not timed.
/// </summary>
public static class StepBenchmark
{
    /// <summary>Receives telemetry and drops it: the benchmark times computing it, not writing it.</summary>
    private sealed class Discard : ITelemetryObserver
    {
        public void OnStep(TelemetryStep step) { }
    }

    /// <summary>Runs <paramref name="warmup"/> untimed then <paramref name="steps"/> timed steps (telemetry every <paramref name="telemetryEvery"/> steps; 0 = none).</summary>
    public static StepBenchmarkResult Run(IBackend backend, GptConfig config, int B, int T, int warmup, int steps, ulong seed = 1, int telemetryEvery = 0)
    {
        using var model = new GptModel(backend, config);
        model.InitializeWeights(seed);
        var step = new LmStep(model, B, T);
        using var acts = step.Activations;
        using var adam = new GroupedOptimizer(model.Parameters, model.Gradients, OptimizerConfig.PlainAdamW(new AdamWOptions()));
        if (telemetryEvery > 0) adam.AttachTelemetry(telemetryEvery, new Discard());
        using var clipper = new GradientClipper(backend);
        var batch = new SftBatch(B, T);
        var rng = new Rng(seed);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
            {
                int n = b * T + t;
                batch.Tokens[n] = rng.NextInt(config.VocabSize);
                batch.Positions[n] = t;
                batch.AttentionMask[n] = 1;
                batch.LossMask[n] = 1;
            }
        for (int n = 0; n < B * T; n++) batch.Targets[n] = (n + 1) % T == 0 ? -1 : batch.Tokens[n + 1];
        for (int n = 0; n < B * T; n++) if (batch.Targets[n] < 0) batch.LossMask[n] = 0;
        batch.LossTokenCount = B * (T - 1);

        var times = new double[steps];
        for (int i = 0; i < warmup + steps; i++)
        {
            var clock = Stopwatch.StartNew();
            model.ZeroGradients();
            step.Run(batch, backward: true);
            float norm = clipper.GlobalNorm(model.Gradients.All);
            adam.Update(1e-4f, GradientClipper.ClipScale(norm, 1f));
            backend.Synchronize();
            if (i >= warmup) times[i - warmup] = clock.Elapsed.TotalMilliseconds;
        }
        return new StepBenchmarkResult(times, B * T);
    }
}
